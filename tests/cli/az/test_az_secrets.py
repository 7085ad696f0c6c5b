"""``az keyvault secret``: the data plane over HTTPS with the account's token — set (value
and ``--file``/``--encoding``), show, list, list-versions, set-attributes, delete, recover,
purge, download."""

from __future__ import annotations

from pathlib import Path

import pytest
from az_runner import Az, as_json
from support.local_cloud import LocalCloud

VAULT = "KvSecrets"


@pytest.fixture(scope="module", autouse=True)
def vault(az: Az) -> None:
    az.ok("group", "create", "-n", "secrets-rg", "-l", "eastus")
    az.ok("keyvault", "create", "-n", VAULT, "-g", "secrets-rg")


def _base(cloud: LocalCloud) -> str:
    return f"https://kvsecrets.{cloud.endpoints['keyvault_dns_suffix']}"


def _attributes(created: str, updated: str | None = None, enabled: bool = True) -> dict:
    return {"created": created, "enabled": enabled, "expires": None, "notBefore": None,
            "recoverableDays": 90, "recoveryLevel": "Recoverable+Purgeable",
            "updated": updated or created}


def test_set_and_show_in_json_and_tsv(az: Az, cloud: LocalCloud) -> None:
    created = az.ok("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Plain",
                    "--value", "s3cr3t", "--content-type", "text/plain")
    bundle = created.json()
    stamp = bundle["attributes"]["created"]
    assert stamp.endswith("+00:00")
    version = bundle["id"].rsplit("/", 1)[1]
    assert len(version) == 32
    expected = {"attributes": _attributes(stamp), "contentType": "text/plain",
                "id": f"{_base(cloud)}/secrets/Plain/{version}", "kid": None,
                "managed": None, "name": "Plain", "tags": None, "value": "s3cr3t"}
    assert created.stdout == as_json(expected)
    assert az.ok("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "Plain").stdout \
        == as_json(expected)
    assert az.ok("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "plain",
                 "--version", version, "--query", "value", "-o", "tsv").stdout == "s3cr3t\n"
    assert az.ok("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "Plain",
                 "-o", "tsv").stdout == \
        f"\ttext/plain\t{_base(cloud)}/secrets/Plain/{version}\tNone\tNone\tPlain\tNone\ts3cr3t\n"


def test_list_and_list_versions(az: Az, cloud: LocalCloud) -> None:
    first = az.ok("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Versioned",
                  "--value", "one").json()
    second = az.ok("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Versioned",
                   "--value", "two").json()
    listed = az.ok("keyvault", "secret", "list", "--vault-name", VAULT,
                   "--query", "[?name=='Versioned']").stdout
    assert listed == as_json([{"attributes": second["attributes"], "contentType": None,
                               "id": f"{_base(cloud)}/secrets/Versioned", "managed": None,
                               "name": "Versioned", "tags": None}])
    versions = az.ok("keyvault", "secret", "list-versions", "--vault-name", VAULT,
                     "-n", "Versioned", "--query", "[].id", "-o", "tsv").stdout
    assert sorted(versions.split()) == sorted([first["id"], second["id"]])


def test_file_with_base64_encoding_and_download_round_trip(az: Az, tmp_path: Path) -> None:
    data = bytes(range(256))
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    stored = az.ok("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Blob",
                   "--file", str(source), "--encoding", "base64").json()
    assert stored["tags"] == {"file-encoding": "base64"}
    assert stored["value"] == __import__("base64").b64encode(data).decode()
    target = tmp_path / "out.bin"
    assert az.ok("keyvault", "secret", "download", "--vault-name", VAULT, "-n", "Blob",
                 "--file", str(target)).stdout == ""
    assert target.read_bytes() == data
    again = az("keyvault", "secret", "download", "--vault-name", VAULT, "-n", "Blob",
               "--file", str(target))
    assert (again.exit_code, again.stderr) == (
        1, f"ERROR: File or directory {target} already exists.\n")
    text = tmp_path / "text.txt"
    text.write_text("line one\nline two\n")
    az.ok("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Text", "-f", str(text))
    assert az.ok("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "Text",
                 "--query", "value").stdout == '"line one\\nline two\\n"\n'


def test_set_attributes_delete_recover_purge(az: Az, cloud: LocalCloud) -> None:
    az.ok("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Life", "--value", "v")
    disabled = az.ok("keyvault", "secret", "set-attributes", "--vault-name", VAULT,
                     "-n", "Life", "--enabled", "false").json()
    assert disabled["attributes"]["enabled"] is False
    assert "value" not in disabled
    refused = az("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "Life")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("ERROR: (Forbidden) Operation get is not allowed on a "
                                     "disabled secret.")
    az.ok("keyvault", "secret", "set-attributes", "--vault-name", VAULT, "-n", "Life",
          "--enabled", "true")
    deleted = az.ok("keyvault", "secret", "delete", "--vault-name", VAULT, "-n", "Life").json()
    assert deleted["recoveryId"] == f"{_base(cloud)}/deletedsecrets/Life"
    assert deleted["value"] is None
    missing = az("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "Life")
    assert missing.exit_code == 3
    recovered = az.ok("keyvault", "secret", "recover", "--vault-name", VAULT, "-n", "Life")
    assert recovered.json()["name"] == "Life"
    assert az.ok("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "Life",
                 "--query", "value", "-o", "tsv").stdout == "v\n"
    az.ok("keyvault", "secret", "delete", "--vault-name", VAULT, "-n", "Life")
    assert az.ok("keyvault", "secret", "purge", "--vault-name", VAULT, "-n", "Life").stdout \
        == ""
    gone = az("keyvault", "secret", "recover", "--vault-name", VAULT, "-n", "Life")
    assert gone.exit_code == 3


def test_expiry_and_not_before(az: Az) -> None:
    timed = az.ok("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Timed",
                  "--value", "t", "--expires", "2031-01-02T03:04:05Z",
                  "--not-before", "2030-01-01T00:00:00", "--query",
                  "attributes.[expires, notBefore]", "-o", "tsv")
    assert timed.stdout == "2031-01-02T03:04:05+00:00\n2030-01-01T00:00:00+00:00\n"
    bad = az("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "Timed", "--value", "t",
             "--expires", "next week")
    assert (bad.exit_code, bad.stderr) == (
        2, "ERROR: argument --expires: invalid datetime value: 'next week'\n")


def test_errors(az: Az) -> None:
    missing = az("keyvault", "secret", "show", "--vault-name", VAULT, "-n", "Nope")
    assert missing.exit_code == 3
    assert missing.stderr == (
        "ERROR: (SecretNotFound) A secret with (name/id) Nope was not found in this key vault. "
        "If you recently deleted this secret you may be able to recover it using the correct "
        "recovery command. For help resolving this issue, please see "
        "https://go.microsoft.com/fwlink/?linkid=2125182\n"
        "Code: SecretNotFound\n"
        "Message: A secret with (name/id) Nope was not found in this key vault. If you "
        "recently deleted this secret you may be able to recover it using the correct "
        "recovery command. For help resolving this issue, please see "
        "https://go.microsoft.com/fwlink/?linkid=2125182\n")
    usage = az("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "X")
    assert (usage.exit_code, usage.stderr) == (2, "ERROR: usage error: --value VALUE | "
                                                  "--file PATH\n")
    no_file = az("keyvault", "secret", "set", "--vault-name", VAULT, "-n", "X",
                 "--file", "/nonexistent/file")
    assert (no_file.exit_code, no_file.stderr) == (
        1, "ERROR: No such file or directory: '/nonexistent/file'\n")
