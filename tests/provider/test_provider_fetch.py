"""The mount core per object type, format, encoding and version history (fake Key Vault)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from support.pki import make_chain

from kvcsi.provider.errors import MountError
from kvcsi.provider.formats import JsonWebKey
from kvcsi.provider.keyvault import VersionItem
from kvcsi.provider.mount import MountedFile, ObjectVersion, ProviderSettings, mount

Attributes = Callable[..., str]
CHAIN = make_chain()
KID = "https://kvname.vault.azure.net/keys/MyCert/c1"
PKCS12 = "application/x-pkcs12"
PEM = "application/x-pem-file"


def objects(*elements: str) -> str:
    text = "array:\n"
    for element in elements:
        text += "  - |\n" + "".join(f"    {line}\n" for line in element.strip().splitlines())
    return text


def run(attributes: Attributes, vault: Any, *elements: str, **settings: Any) -> Any:
    return mount(attributes(objects=objects(*elements)), gateway=vault,
                 settings=ProviderSettings(**settings))


def failure(attributes: Attributes, vault: Any, *elements: str) -> str:
    with pytest.raises(MountError) as caught:
        run(attributes, vault, *elements)
    return str(caught.value)


@pytest.fixture
def cert_vault(fake_vault: Any) -> Any:
    """MyCert imported from a PFX whose bag order is root, intermediate, leaf (case BB-06)."""
    fake_vault.secrets["MyCert"] = [("c1", CHAIN.pfx_base64())]
    fake_vault.content_types["MyCert"] = (PKCS12, KID)
    fake_vault.certificates["MyCert"] = [
        ("c1", CHAIN.leaf.public_bytes(serialization.Encoding.DER))]
    numbers = CHAIN.leaf_key.public_key().public_numbers()
    fake_vault.keys["MyCert"] = [("c1", JsonWebKey(
        kty="RSA", n=numbers.n.to_bytes(256, "big"), e=numbers.e.to_bytes(3, "big")))]
    return fake_vault


def test_cert_secret_and_key_of_one_certificate(attributes: Attributes, cert_vault: Any) -> None:
    result = run(attributes, cert_vault,
                 "objectName: MyCert\nobjectType: cert\nobjectAlias: cert.pem",
                 "objectName: MyCert\nobjectType: secret\nobjectAlias: bundle.pem",
                 "objectName: MyCert\nobjectType: key\nobjectAlias: pub.pem")
    public = CHAIN.leaf_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert result.files == [
        MountedFile("cert.pem", 0o644, CHAIN.pem("leaf")),
        MountedFile("bundle.pem", 0o644,
                    CHAIN.key_pkcs8_pem() + CHAIN.pem("leaf", "intermediate", "root")),
        MountedFile("pub.pem", 0o644, public)]
    assert result.object_versions == [ObjectVersion("cert/MyCert", "c1"),
                                      ObjectVersion("secret/MyCert", "c1"),
                                      ObjectVersion("key/MyCert", "c1")]
    assert result.warnings == []


def test_without_construct_pem_chain_the_upload_order_is_kept(attributes: Attributes,
                                                              cert_vault: Any) -> None:
    result = run(attributes, cert_vault, "objectName: MyCert\nobjectType: secret",
                 construct_pem_chain=False)
    assert result.files[0].contents == CHAIN.key_pkcs8_pem() + CHAIN.pem(
        "root", "intermediate", "leaf")


def test_incomplete_chain_warns_and_keeps_pfx_order(attributes: Attributes,
                                                    cert_vault: Any) -> None:
    cert_vault.secrets["MyCert"] = [("c2", CHAIN.pfx_base64(("root", "leaf")))]
    result = run(attributes, cert_vault, "objectName: MyCert\nobjectType: secret")
    assert result.files[0].contents == CHAIN.key_pkcs8_pem() + CHAIN.pem("root", "leaf")
    assert result.warnings == [
        "secret MyCert: certificate chain is not complete due to missing intermediate/root "
        "certificates in the cert from key vault; certificates kept in PFX order"]


def test_pfx_format_gives_base64_text_or_binary(attributes: Attributes,
                                                cert_vault: Any) -> None:
    # Case BB-08.
    result = run(attributes, cert_vault,
                 "objectName: MyCert\nobjectType: secret\nobjectFormat: pfx\n"
                 "objectEncoding: base64\nobjectAlias: my.pfx",
                 "objectName: MyCert\nobjectType: secret\nobjectFormat: PFX\n"
                 "objectAlias: my.pfx.b64")
    value = cert_vault.secrets["MyCert"][0][1]
    assert result.files[0].contents == base64.b64decode(value)
    assert result.files[0].contents[:2] == b"\x30\x82"
    assert result.files[1].contents == value.encode()


def test_pem_backed_certificate_is_written_as_stored(attributes: Attributes,
                                                     cert_vault: Any) -> None:
    stored = (CHAIN.pem("root", "leaf") + CHAIN.key_pkcs8_pem()).decode()
    cert_vault.secrets["MyCert"] = [("c3", stored)]
    cert_vault.content_types["MyCert"] = (PEM, KID)
    result = run(attributes, cert_vault, "objectName: MyCert\nobjectType: secret")
    assert result.files[0].contents == stored.encode()


def test_pem_backed_certificate_as_pfx_is_an_error(attributes: Attributes,
                                                   cert_vault: Any) -> None:
    cert_vault.content_types["MyCert"] = (PEM, KID)
    assert failure(attributes, cert_vault,
                   "objectName: MyCert\nobjectType: secret\nobjectFormat: pfx") == (
        "failed to get objectType:secret, objectName:MyCert, objectVersion:: objectFormat pfx "
        "needs a certificate stored as application/x-pkcs12, but MyCert has content type "
        "application/x-pem-file")


def test_separate_cert_and_key_files(attributes: Attributes, cert_vault: Any) -> None:
    result = run(attributes, cert_vault,
                 "objectName: MyCert\nobjectType: secret\nobjectAlias: bundle.pem\n"
                 "filePermission: 0600",
                 "objectName: db-password\nobjectType: secret",
                 write_cert_and_key_in_separate_files=True)
    chain = CHAIN.pem("leaf", "intermediate", "root")
    assert result.files == [
        MountedFile("bundle.pem.crt", 0o600, chain),
        MountedFile("bundle.pem.key", 0o600, CHAIN.key_pkcs8_pem()),
        MountedFile("bundle.pem", 0o600, CHAIN.key_pkcs8_pem() + chain),
        MountedFile("db-password", 0o644, b"s3cr3t!")]
    assert [v.id for v in result.object_versions] == [
        "secret/MyCert", "secret/MyCert", "secret/MyCert", "secret/db-password"]


def test_separate_files_for_pfx_format_are_empty(attributes: Attributes,
                                                 cert_vault: Any) -> None:
    result = run(attributes, cert_vault,
                 "objectName: MyCert\nobjectType: secret\nobjectFormat: pfx",
                 write_cert_and_key_in_separate_files=True)
    assert [(f.path, f.contents) for f in result.files[:2]] == [
        ("MyCert.crt", b""), ("MyCert.key", b"")]


def test_fetch_errors_carry_the_object_prefix(attributes: Attributes, cert_vault: Any) -> None:
    cert_vault.keys["MyCert"] = [("c1", JsonWebKey(kty="oct"))]
    assert failure(attributes, cert_vault, "objectName: MyCert\nobjectType: key") == (
        "failed to get objectType:key, objectName:MyCert, objectVersion:: failed to get key. "
        "key type 'oct' currently not supported")


def history(versions: list[tuple[str, bool | None, float | None]]) -> list[VersionItem]:
    return [VersionItem(v, enabled, created) for v, enabled, created in versions]


@pytest.fixture
def history_vault(fake_vault: Any) -> Any:
    fake_vault.secrets["s1"] = [(f"v{i}", f"value {i}") for i in range(1, 6)]
    fake_vault.listings[("secret", "s1")] = history([
        ("v1", True, 100.0), ("v3", False, 300.0), ("v2", True, 200.0), ("v4", None, 400.0),
        ("v5", True, 500.0)])
    return fake_vault


@pytest.mark.parametrize(("element", "expected"), [
    ("objectVersionHistory: 2", [("v5", "0"), ("v4", "1")]),
    ("objectVersionHistory: 10", [("v5", "0"), ("v4", "1"), ("v2", "2"), ("v1", "3")]),
    ("objectVersionHistory: 3\nobjectVersion: latest", [("v5", "0"), ("v4", "1"), ("v2", "2")]),
    ("objectVersionHistory: 2\nobjectVersion: v4", [("v4", "0"), ("v2", "1")]),
    ("objectVersionHistory: 1", [("v5", None)]),
])
def test_version_history(attributes: Attributes, history_vault: Any, element: str,
                         expected: list[tuple[str, str | None]]) -> None:
    result = run(attributes, history_vault,
                 f"objectName: s1\nobjectType: secret\nobjectAlias: conf\n{element}")
    if expected[0][1] is None:
        assert result.files == [MountedFile("conf", 0o644, b"value 5")]
        return
    assert result.files == [MountedFile(f"conf/{i}", 0o644, f"value {v[1:]}".encode())
                            for v, i in expected]
    assert result.object_versions == [ObjectVersion(f"secret/s1/{i}", v) for v, i in expected]


def test_history_start_version_not_listed_gives_no_file_and_a_warning(
        attributes: Attributes, history_vault: Any) -> None:
    result = run(attributes, history_vault,
                 "objectName: s1\nobjectType: secret\nobjectVersionHistory: 2\n"
                 "objectVersion: v3")
    assert (result.files, result.object_versions) == ([], [])
    assert result.warnings == ["objects element 0: version v3 of secret s1 is not among its "
                               "enabled versions; no file written"]


def test_history_listing_error(attributes: Attributes, history_vault: Any) -> None:
    history_vault.errors["s1"] = "RESPONSE 403: 403 Forbidden"
    assert failure(attributes, history_vault,
                   "objectName: s1\nobjectType: secret\nobjectVersionHistory: 2") == (
        "failed to get objectType:secret, objectName:s1, objectVersion:: failed to list "
        "versions: RESPONSE 403: 403 Forbidden")


def test_objects_are_fetched_concurrently_and_kept_in_order(attributes: Attributes,
                                                            fake_vault: Any) -> None:
    names = [f"s{i:02d}" for i in range(20)]
    for name in names:
        fake_vault.secrets[name] = [("v", f"value of {name}")]
    running, peak, lock = [0], [0], threading.Lock()

    def slow() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    fake_vault.block = slow
    start = time.monotonic()
    result = run(attributes, fake_vault, *(f"objectName: {n}\nobjectType: secret"
                                           for n in names))
    assert time.monotonic() - start < 0.5  # one by one would take 1 s
    assert peak[0] == 20
    assert [f.contents for f in result.files] == [f"value of {n}".encode() for n in names]


def test_first_failing_object_in_order_is_reported(attributes: Attributes,
                                                   fake_vault: Any) -> None:
    fake_vault.secrets.update({"a": [("v", "a")], "b": [("v", "b")]})
    fake_vault.errors.update({"b": "second", "c": "third"})
    assert failure(attributes, fake_vault, "objectName: a\nobjectType: secret",
                   "objectName: c\nobjectType: secret", "objectName: b\nobjectType: secret") == (
        "failed to get objectType:secret, objectName:c, objectVersion:: third")


@pytest.mark.parametrize(("value", "expected"), [("", 64), ("1", 1), ("8", 8), ("0", 1),
                                                 ("many", 64)])
def test_fetch_concurrency_setting(monkeypatch: pytest.MonkeyPatch, value: str,
                                   expected: int) -> None:
    from kvcsi.provider.mount import FETCH_CONCURRENCY_ENV, fetch_concurrency
    monkeypatch.setenv(FETCH_CONCURRENCY_ENV, value)
    assert fetch_concurrency() == expected
