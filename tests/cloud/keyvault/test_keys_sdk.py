"""The unmodified azure-keyvault-keys KeyClient and CryptographyClient against the local vault.

CryptographyClient fetches the key once, then encrypts, wraps and verifies *locally* with the
returned public JWK and only asks the service to decrypt, unwrap and sign: the tests check
both the results and which operations reached the server (through the authorization hook).
"""

from __future__ import annotations

import hashlib

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.keys import JsonWebKey, KeyCurveName, KeyType
from azure.keyvault.keys.crypto import (
    CryptographyClient,
    EncryptionAlgorithm,
    KeyWrapAlgorithm,
    SignatureAlgorithm,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kvcsi.cloud.keyvault import authorization


@pytest.fixture
def server_operations():
    """Names of the operations the local Key Vault authorized, in order."""
    seen: list[str] = []

    def listener(record):
        seen.append(record.operation.name)
    authorization.add_authorization_listener(listener)
    yield seen
    authorization.remove_authorization_listener(listener)


@pytest.mark.parametrize("size", [2048, 3072, 4096])
def test_create_rsa_sizes(kv, size):
    key = kv.key_client().create_rsa_key(f"rsa{size}", size=size)
    assert key.key_type == KeyType.rsa
    assert len(key.key.n) * 8 == size
    assert key.key.e == b"\x01\x00\x01"
    assert key.key.d is None
    assert key.id == f"{kv.url}/keys/rsa{size}/{key.properties.version}"
    assert sorted(key.key_operations) == sorted(
        ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"])


@pytest.mark.parametrize(("curve", "length"), [("P-256", 32), ("P-384", 48), ("P-521", 66)])
def test_create_ec_curves(kv, curve, length):
    key = kv.key_client().create_ec_key("ec", curve=curve)
    assert (key.key_type, key.key.crv) == (KeyType.ec, curve)
    assert (len(key.key.x), len(key.key.y)) == (length, length)
    assert sorted(key.key_operations) == ["sign", "verify"]


def test_rsa_cryptography_client_local_and_remote(kv, server_operations):
    client = kv.key_client()
    key = client.create_rsa_key("crypto", size=2048)
    crypto = CryptographyClient(key, kv.credential(), connection_verify=kv.cloud.ca_bundle)
    server_operations.clear()
    for algorithm in (EncryptionAlgorithm.rsa_oaep, EncryptionAlgorithm.rsa_oaep_256,
                      EncryptionAlgorithm.rsa1_5):
        encrypted = crypto.encrypt(algorithm, b"plaintext")
        assert encrypted.key_id == key.id
        assert crypto.decrypt(algorithm, encrypted.ciphertext).plaintext == b"plaintext"
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"k" * 32)
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == \
        b"k" * 32
    for algorithm, hash_name in ((SignatureAlgorithm.rs256, "sha256"),
                                 (SignatureAlgorithm.ps384, "sha384"),
                                 (SignatureAlgorithm.rs512, "sha512"),
                                 (SignatureAlgorithm.ps256, "sha256"),
                                 (SignatureAlgorithm.rs384, "sha384"),
                                 (SignatureAlgorithm.ps512, "sha512")):
        digest = hashlib.new(hash_name, b"message").digest()
        signed = crypto.sign(algorithm, digest)
        assert crypto.verify(algorithm, digest, signed.signature).is_valid
        assert not crypto.verify(algorithm, digest, b"\x00" * len(signed.signature)).is_valid
    assert server_operations == ["decrypt"] * 3 + ["unwrapKey"] + ["sign"] * 6


def test_ec_cryptography_client_signs_remotely_verifies_locally(kv, server_operations):
    client = kv.key_client()
    for curve, algorithm, hash_name in (("P-256", SignatureAlgorithm.es256, "sha256"),
                                        ("P-384", SignatureAlgorithm.es384, "sha384"),
                                        ("P-521", SignatureAlgorithm.es512, "sha512")):
        key = client.create_ec_key(f"ec{curve[2:]}", curve=curve)
        crypto = CryptographyClient(key.id, kv.credential(), connection_verify=kv.cloud.ca_bundle)
        digest = hashlib.new(hash_name, b"message").digest()
        server_operations.clear()
        signed = crypto.sign(algorithm, digest)
        assert crypto.verify(algorithm, digest, signed.signature).is_valid
        assert server_operations == ["getKey", "sign"]


def test_import_rsa_and_ec(kv):
    client = kv.key_client()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = rsa_key.private_numbers()

    def raw(value: int, size: int | None = None) -> bytes:
        return value.to_bytes(size or (value.bit_length() + 7) // 8, "big")
    jwk = JsonWebKey(kty=KeyType.rsa, n=raw(numbers.public_numbers.n),
                     e=raw(numbers.public_numbers.e), d=raw(numbers.d), p=raw(numbers.p),
                     q=raw(numbers.q), dp=raw(numbers.dmp1), dq=raw(numbers.dmq1),
                     qi=raw(numbers.iqmp), key_ops=["sign", "verify"])
    imported = client.import_key("imported-rsa", jwk, enabled=True, tags={"src": "local"})
    assert imported.key.n == raw(numbers.public_numbers.n)
    assert imported.key.d is None
    assert imported.key_operations == ["sign", "verify"]
    assert imported.properties.tags == {"src": "local"}
    ec_key = ec.generate_private_key(ec.SECP384R1())
    ec_numbers = ec_key.private_numbers()
    ec_jwk = JsonWebKey(kty=KeyType.ec, crv=KeyCurveName.p_384,
                        x=raw(ec_numbers.public_numbers.x, 48),
                        y=raw(ec_numbers.public_numbers.y, 48), d=raw(ec_numbers.private_value, 48))
    imported_ec = client.import_key("imported-ec", ec_jwk, hardware_protected=True)
    assert (imported_ec.key_type, imported_ec.key.crv) == ("EC-HSM", "P-384")
    assert imported_ec.key.x == raw(ec_numbers.public_numbers.x, 48)
    digest = hashlib.sha384(b"m").digest()
    signature = CryptographyClient(imported_ec, kv.credential(),
                                   connection_verify=kv.cloud.ca_bundle).sign(
        SignatureAlgorithm.es384, digest).signature
    r, s = int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import utils
    ec_key.public_key().verify(utils.encode_dss_signature(r, s), digest,
                               ec.ECDSA(utils.Prehashed(hashes.SHA384())))


def test_key_lifecycle(kv):
    client = kv.key_client()
    first = client.create_ec_key("life", curve="P-256")
    second = client.create_ec_key("LIFE", curve="P-256", tags={"v": "2"})
    assert second.name == "life"
    assert client.get_key("life").id == second.id
    assert client.get_key("life", first.properties.version).id == first.id
    assert {p.version for p in client.list_properties_of_key_versions("life")} == {
        first.properties.version, second.properties.version}
    assert [p.name for p in client.list_properties_of_keys()] == ["life"]
    updated = client.update_key_properties("life", enabled=False, tags={"v": "x"})
    assert (updated.properties.enabled, updated.properties.tags) == (False, {"v": "x"})

    blob = client.backup_key("life")
    deleted = client.begin_delete_key("life").result()
    assert deleted.recovery_id == f"{kv.url}/deletedkeys/life"
    assert client.get_deleted_key("life").id == second.id
    assert [k.name for k in client.list_deleted_keys()] == ["life"]
    with pytest.raises(ResourceExistsError):
        client.create_ec_key("life")
    client.begin_recover_deleted_key("life").wait()
    assert client.get_key("life").properties.enabled is False
    client.begin_delete_key("life").wait()
    client.purge_deleted_key("life")
    with pytest.raises(ResourceNotFoundError) as gone:
        client.get_key("life")
    assert gone.value.error.code == "KeyNotFound"
    restored = client.restore_key_backup(blob)
    assert restored.id == second.id
    assert restored.key.x == second.key.x


def test_disabled_key_refuses_operations(kv):
    client = kv.key_client()
    key = client.create_rsa_key("off", size=2048, enabled=False)
    crypto = CryptographyClient(key, kv.credential(), connection_verify=kv.cloud.ca_bundle)
    with pytest.raises(HttpResponseError) as refused:
        crypto.sign(SignatureAlgorithm.rs256, hashlib.sha256(b"x").digest())
    assert refused.value.status_code == 403
    assert refused.value.error.message == "Operation sign is not allowed on a disabled key."
    assert refused.value.error.innererror == {"code": "KeyDisabled"}
