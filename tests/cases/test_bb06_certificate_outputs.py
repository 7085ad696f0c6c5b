"""BB-06: a certificate read as ``cert``, ``secret`` and ``key`` (PFX bag order root, int, leaf)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from azure.keyvault.certificates import CertificateContentType, CertificatePolicy
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from support.pki import make_chain, public_pem
from support.provider_world import World, objects_yaml, provider_stub

from kvcsi.provider.mount import ProviderSettings

CHAIN = make_chain()
ELEMENTS = objects_yaml("objectName: MyCert\nobjectType: cert\nobjectAlias: cert.pem",
                        "objectName: MyCert\nobjectType: secret\nobjectAlias: bundle.pem",
                        "objectName: MyCert\nobjectType: key\nobjectAlias: pub.pem")
LEAF_TO_ROOT = CHAIN.pem("leaf", "intermediate", "root")


@pytest.fixture(scope="module")
def imported(world: World) -> str:
    """MyCert imported from a PFX whose bags are root, intermediate, leaf; its version."""
    policy = CertificatePolicy.get_default()
    policy._content_type = CertificateContentType.pkcs12
    certificate = world.certificates().import_certificate(
        "MyCert", CHAIN.pfx(("root", "intermediate", "leaf")), policy=policy)
    return str(certificate.properties.version)


def test_cert_secret_and_key(world: World, imported: str) -> None:
    outcome = world.mount(world.parameters(), ELEMENTS)
    assert outcome.error is None
    assert outcome.files == {
        "cert.pem": (0o644, CHAIN.pem("leaf")),
        "bundle.pem": (0o644, CHAIN.key_pkcs8_pem() + LEAF_TO_ROOT),
        "pub.pem": (0o644, public_pem(CHAIN.leaf_key)),
    }
    assert outcome.versions == [("cert/MyCert", imported), ("secret/MyCert", imported),
                                ("key/MyCert", imported)]
    # the key's public half matches the leaf, which is the first certificate of the bundle
    bundle = outcome.files["bundle.pem"][1]
    key = serialization.load_pem_private_key(bundle, password=None)
    first = x509.load_pem_x509_certificate(bundle)
    assert first.subject == CHAIN.leaf.subject
    assert public_pem(key) == first.public_key().public_bytes(  # type: ignore[arg-type]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def split_world(world: World) -> Iterator[World]:
    settings = ProviderSettings(default_cloud="AzureStackCloud",
                                write_cert_and_key_in_separate_files=True)
    with provider_stub(world.socket_dir, world.gateway, settings) as stub:
        yield world.with_stub(stub)


def test_separate_cert_and_key_files(split_world: World, imported: str) -> None:
    outcome = split_world.mount(split_world.parameters(), objects_yaml(
        "objectName: MyCert\nobjectType: secret\nobjectAlias: bundle.pem"))
    assert outcome.files == {
        "bundle.pem.crt": (0o644, LEAF_TO_ROOT),
        "bundle.pem.key": (0o644, CHAIN.key_pkcs8_pem()),
        "bundle.pem": (0o644, CHAIN.key_pkcs8_pem() + LEAF_TO_ROOT),
    }
    assert outcome.versions == [("secret/MyCert", imported)] * 3


def stored_bag_order(world: World) -> list[str]:
    """The certificates of MyCert's stored PFX, in bag order (the local vault re-packs it)."""
    data = base64.b64decode(world.secrets().get_secret("MyCert").value or "")
    parts = ("leaf", "intermediate", "root")
    offsets = {part: data.find(getattr(CHAIN, part).public_bytes(serialization.Encoding.DER))
               for part in parts}
    assert all(offset >= 0 for offset in offsets.values())
    return sorted(parts, key=offsets.__getitem__)


def test_without_construct_pem_chain_the_stored_order_is_kept(world: World,
                                                              imported: str) -> None:
    order = stored_bag_order(world)
    assert order.index("root") < order.index("intermediate")  # so ordering has work to do
    settings = ProviderSettings(default_cloud="AzureStackCloud", construct_pem_chain=False)
    with provider_stub(world.socket_dir, world.gateway, settings) as stub:
        outcome = world.with_stub(stub).mount(world.parameters(), objects_yaml(
            "objectName: MyCert\nobjectType: secret"))
    assert outcome.files["MyCert"][1] == CHAIN.key_pkcs8_pem() + CHAIN.pem(*order)


def test_pem_backed_certificate_is_written_as_stored(world: World) -> None:
    stored = CHAIN.key_pkcs8_pem() + CHAIN.pem("root", "intermediate", "leaf")
    policy = CertificatePolicy.get_default()
    policy._content_type = CertificateContentType.pem
    world.certificates().import_certificate("MyPemCert", stored, policy=policy)
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: MyPemCert\nobjectType: secret",
        "objectName: MyPemCert\nobjectType: cert\nobjectAlias: leaf.pem"))
    assert outcome.error is None
    value = world.secrets().get_secret("MyPemCert").value or ""
    assert value.startswith("-----BEGIN PRIVATE KEY-----")
    assert outcome.files["MyPemCert"] == (0o644, value.encode())  # never reordered
    assert outcome.files["leaf.pem"] == (0o644, CHAIN.pem("leaf"))


def test_pem_backed_certificate_as_pfx_names_the_object_and_content_type(
        world: World) -> None:
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: MyPemCert\nobjectType: secret\nobjectFormat: pfx"))
    assert outcome.error == (
        "failed to mount objects, error: failed to get objectType:secret, objectName:MyPemCert, "
        "objectVersion:: objectFormat pfx needs a certificate stored as application/x-pkcs12, "
        "but MyPemCert has content type application/x-pem-file")
