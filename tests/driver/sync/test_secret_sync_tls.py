"""``kubernetes.io/tls`` Secrets: PEM and PFX split into tls.crt / tls.key, keys normalised."""

from __future__ import annotations

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from kvcsi.driver.secret_sync_tls import TlsSplitError, tls_part

from ..rotation.world import World, spc


def _certificate(key) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))


def _pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def rsa_material() -> tuple:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, _certificate(key)


def test_pem_bundle_splits_into_certificate_and_pkcs1_key(rsa_material) -> None:
    key, cert = rsa_material
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    bundle = _pkcs8(key) + cert_pem
    assert tls_part(bundle, "tls.crt") == cert_pem
    pkcs1 = tls_part(bundle, "tls.key")
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert pkcs1 == key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())


def test_ec_key_becomes_sec1() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    bundle = _pkcs8(key) + _certificate(key).public_bytes(serialization.Encoding.PEM)
    assert tls_part(bundle, "tls.key").startswith(b"-----BEGIN EC PRIVATE KEY-----\n")


def test_pfx_without_password_is_read_when_there_is_no_pem(rsa_material) -> None:
    key, cert = rsa_material
    pfx = pkcs12.serialize_key_and_certificates(b"x", key, cert, None,
                                                serialization.NoEncryption())
    assert tls_part(pfx, "tls.crt") == cert.public_bytes(serialization.Encoding.PEM)
    assert tls_part(pfx, "tls.key").startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")


def test_other_keys_and_garbage_are_refused(rsa_material) -> None:
    with pytest.raises(TlsSplitError) as refused:
        tls_part(b"whatever", "ca.crt")
    assert str(refused.value) == "tls key is not supported. Only tls.key and tls.crt are supported"
    with pytest.raises(TlsSplitError) as garbage:
        tls_part(b"not a certificate", "tls.crt")
    assert str(garbage.value).startswith("failed to decode content as PEM or PFX (empty password)")


def test_tls_secret_from_a_mounted_certificate(world: World, rsa_material) -> None:
    key, cert = rsa_material
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    world.store.create(spc("tls", secret_objects=[{
        "secretName": "ingress-tls", "type": "kubernetes.io/tls",
        "data": [{"objectName": "mycert", "key": "tls.key"},
                 {"objectName": "mycert", "key": "tls.crt"}]}]))
    world.driver.provider.files = [("mycert", 0o644, _pkcs8(key) + cert_pem)]
    app = world.add_pod("app", spc_name="tls")
    world.publish(app)
    secret = world.store.get("v1", "Secret", "default", "ingress-tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.crt"]) == cert_pem
    assert base64.b64decode(secret["data"]["tls.key"]).startswith(
        b"-----BEGIN RSA PRIVATE KEY-----\n")
