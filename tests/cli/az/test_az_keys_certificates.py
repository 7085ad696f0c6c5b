"""``az keyvault key`` and ``az keyvault certificate`` through the official KeyClient and
CertificateClient against the local Key Vault."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from az_runner import Az, as_json
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from support import pki
from support.local_cloud import LocalCloud

from kvcsi.cli.az.certificates import DEFAULT_POLICY

VAULT = "KvKeysCerts"


@pytest.fixture(scope="module", autouse=True)
def vault(az: Az) -> None:
    az.ok("group", "create", "-n", "kc-rg", "-l", "eastus")
    az.ok("keyvault", "create", "-n", VAULT, "-g", "kc-rg")


def _base(cloud: LocalCloud) -> str:
    return f"https://kvkeyscerts.{cloud.endpoints['keyvault_dns_suffix']}"


def test_key_create_show_list_delete(az: Az, cloud: LocalCloud) -> None:
    created = az.ok("keyvault", "key", "create", "--vault-name", VAULT, "-n", "Rsa1",
                    "--kty", "RSA", "--size", "2048").json()
    key = created["key"]
    assert key["kty"] == "RSA"
    assert key["kid"].startswith(f"{_base(cloud)}/keys/Rsa1/")
    assert len(base64.urlsafe_b64decode(key["n"] + "==")) == 256
    assert key["e"] == "AQAB"
    assert key["d"] is None
    assert created["attributes"]["enabled"] is True
    assert az.ok("keyvault", "key", "show", "--vault-name", VAULT, "-n", "Rsa1").stdout == \
        as_json(created)
    ec_key = az.ok("keyvault", "key", "create", "--vault-name", VAULT, "-n", "Ec1",
                   "--kty", "EC", "--curve", "P-384", "--query", "key.[kty, crv]", "-o", "tsv")
    assert ec_key.stdout == "EC\nP-384\n"
    assert az.ok("keyvault", "key", "list", "--vault-name", VAULT, "--query",
                 "sort([].name)", "-o", "tsv").stdout == "Ec1\nRsa1\n"
    deleted = az.ok("keyvault", "key", "delete", "--vault-name", VAULT, "-n", "Ec1").json()
    assert deleted["recoveryId"] == f"{_base(cloud)}/deletedkeys/Ec1"
    missing = az("keyvault", "key", "show", "--vault-name", VAULT, "-n", "Ec1")
    assert missing.exit_code == 3
    assert missing.stderr.startswith("ERROR: (KeyNotFound) ")


def test_key_import_from_pem(az: Az, tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "key.pem"
    pem.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    imported = az.ok("keyvault", "key", "import", "--vault-name", VAULT, "-n", "Imported",
                     "--pem-file", str(pem)).json()
    x = private.public_key().public_numbers().x.to_bytes(32, "big")
    assert imported["key"]["x"] == base64.urlsafe_b64encode(x).decode().rstrip("=")
    assert imported["key"]["crv"] == "P-256"
    usage = az("keyvault", "key", "import", "--vault-name", VAULT, "-n", "Imported")
    assert (usage.exit_code, usage.stderr) == (
        2, "ERROR: usage error: --pem-file PATH | --pem-string STRING\n")


def test_certificate_default_policy_create_show_download(az: Az, cloud: LocalCloud,
                                                         tmp_path: Path) -> None:
    policy = az.ok("keyvault", "certificate", "get-default-policy")
    assert policy.stdout == as_json(DEFAULT_POLICY)
    operation = az.ok("keyvault", "certificate", "create", "--vault-name", VAULT, "-n", "Web",
                      "--policy", policy.stdout).json()
    assert (operation["status"], operation["target"]) == (
        "completed", f"{_base(cloud)}/certificates/Web")
    shown = az.ok("keyvault", "certificate", "show", "--vault-name", VAULT, "-n", "Web").json()
    version = shown["id"].rsplit("/", 1)[1]
    assert shown["sid"] == f"{_base(cloud)}/secrets/Web/{version}"
    assert shown["kid"] == f"{_base(cloud)}/keys/Web/{version}"
    certificate = x509.load_der_x509_certificate(base64.b64decode(shown["cer"]))
    assert certificate.subject.rfc4514_string() == "CN=CLIGetDefaultPolicy"
    assert shown["x509ThumbprintHex"] == certificate.fingerprint(hashes.SHA1()).hex().upper()
    assert shown["policy"]["keyProperties"]["keySize"] == 2048
    assert az.ok("keyvault", "certificate", "list", "--vault-name", VAULT, "--query",
                 "[].name", "-o", "tsv").stdout == "Web\n"
    pem = tmp_path / "web.pem"
    assert az.ok("keyvault", "certificate", "download", "--vault-name", VAULT, "-n", "Web",
                 "-f", str(pem)).stdout == ""
    assert x509.load_pem_x509_certificate(pem.read_bytes()) == certificate
    der = tmp_path / "web.der"
    az.ok("keyvault", "certificate", "download", "--vault-name", VAULT, "-n", "Web",
          "-f", str(der), "-e", "DER")
    assert der.read_bytes() == base64.b64decode(shown["cer"])
    bad = az("keyvault", "certificate", "create", "--vault-name", VAULT, "-n", "Bad",
             "--policy", "{not json")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("ERROR: argument --policy/-p: invalid JSON: ")
    missing = az("keyvault", "certificate", "show", "--vault-name", VAULT, "-n", "Nope")
    assert missing.exit_code == 3
    assert missing.stderr.startswith("ERROR: (CertificateNotFound) ")


def test_certificate_import_pem(az: Az, cloud: LocalCloud, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem_path = tmp_path / "bundle.pem"
    pem_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
        + pki.certificate("imported.example", key).public_bytes(serialization.Encoding.PEM))
    imported = az.ok("keyvault", "certificate", "import", "--vault-name", VAULT,
                     "-n", "ImportedCert", "--file", str(pem_path)).json()
    assert imported["name"] == "ImportedCert"
    certificate = x509.load_der_x509_certificate(base64.b64decode(imported["cer"]))
    assert certificate.subject.rfc4514_string() == "CN=imported.example"
    assert json.loads(az.ok("keyvault", "certificate", "show", "--vault-name", VAULT,
                            "-n", "ImportedCert", "--query",
                            "policy.secretProperties.contentType"
                            ).stdout) == "application/x-pem-file"


def test_certificate_import_pfx_with_password_and_download(az: Az, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = ec.generate_private_key(ec.SECP384R1())
    certificate = pki.certificate("pfx.example", key)
    pfx_path = tmp_path / "bundle.pfx"
    pfx_path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"pfx", key, certificate, None,
        serialization.BestAvailableEncryption(b"s3cret-pass")))
    imported = az.ok("keyvault", "certificate", "import", "--vault-name", VAULT,
                     "-n", "PfxCert", "--file", str(pfx_path),
                     "--password", "s3cret-pass").json()
    assert imported["name"] == "PfxCert"
    assert base64.b64decode(imported["cer"]) == certificate.public_bytes(
        serialization.Encoding.DER)
    assert az.ok("keyvault", "certificate", "show", "--vault-name", VAULT, "-n", "PfxCert",
                 "--query", "policy.secretProperties.contentType", "-o", "tsv"
                 ).stdout == "application/x-pkcs12\n"
    downloaded = tmp_path / "cert.pem"
    az.ok("keyvault", "certificate", "download", "--vault-name", VAULT, "-n", "PfxCert",
          "--file", str(downloaded))
    assert x509.load_pem_x509_certificate(downloaded.read_bytes()) == certificate

    wrong = az("keyvault", "certificate", "import", "--vault-name", VAULT, "-n", "PfxBad",
               "--file", str(pfx_path), "--password", "wrong")
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith("ERROR: (BadParameter)"), wrong.stderr
