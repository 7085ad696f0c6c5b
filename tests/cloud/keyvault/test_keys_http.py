"""Keys over raw HTTPS: JWK shapes, operation requests and answers, errors."""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from kv_support import error_of


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_rsa_bundle_is_public_jwk_only(kv):
    response = kv.call("POST", "/keys/Signer/create", json={
        "kty": "RSA", "key_size": 2048, "attributes": {"exp": 4102444800}, "tags": {"t": "1"}})
    assert response.status_code == 200
    body = response.json()
    version = body["key"]["kid"].rsplit("/", 1)[1]
    assert body["key"]["kid"] == f"{kv.url}/keys/Signer/{version}"
    assert re.fullmatch(r"[0-9a-f]{32}", version)
    assert set(body["key"]) == {"kid", "kty", "key_ops", "n", "e"}
    assert body["key"]["e"] == "AQAB"
    assert "=" not in body["key"]["n"] and len(unb64(body["key"]["n"])) == 256
    created = body["attributes"]["created"]
    assert body["attributes"] == {
        "enabled": True, "exp": 4102444800, "created": created, "updated": created,
        "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90, "exportable": False}
    assert body["tags"] == {"t": "1"}
    assert kv.call("GET", "/keys/signer/").json() == body
    listed = kv.call("GET", "/keys").json()
    assert listed == {"value": [{"kid": f"{kv.url}/keys/Signer", "attributes": body["attributes"],
                                 "tags": {"t": "1"}}], "nextLink": None}


def test_ec_jwk_coordinates(kv):
    body = kv.call("POST", "/keys/ec/create", json={"kty": "EC", "crv": "P-521"}).json()
    assert set(body["key"]) == {"kid", "kty", "key_ops", "crv", "x", "y"}
    assert (body["key"]["kty"], body["key"]["crv"]) == ("EC", "P-521")
    assert len(unb64(body["key"]["x"])) == len(unb64(body["key"]["y"])) == 66


def test_server_side_operations(kv):
    body = kv.call("POST", "/keys/ops/create", json={"kty": "RSA"}).json()
    kid = body["key"]["kid"]
    path = "/keys/ops/" + kid.rsplit("/", 1)[1]
    public = rsa.RSAPublicNumbers(int.from_bytes(unb64(body["key"]["e"]), "big"),
                                  int.from_bytes(unb64(body["key"]["n"]), "big")).public_key()
    encrypted = kv.call("POST", path + "/encrypt", json={"alg": "RSA-OAEP", "value": b64(b"hi")})
    assert encrypted.status_code == 200
    assert set(encrypted.json()) == {"kid", "value"} and encrypted.json()["kid"] == kid
    local = public.encrypt(b"hello", padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(),
                                                  None))
    decrypted = kv.call("POST", path + "/decrypt", json={"alg": "RSA-OAEP", "value": b64(local)})
    assert decrypted.json() == {"kid": kid, "value": b64(b"hello")}
    wrapped = kv.call("POST", path + "/wrapkey", json={"alg": "RSA1_5", "value": b64(b"k" * 16)})
    unwrapped = kv.call("POST", path + "/unwrapkey",
                        json={"alg": "RSA1_5", "value": wrapped.json()["value"]})
    assert unwrapped.json()["value"] == b64(b"k" * 16)
    digest = hashlib.sha256(b"m").digest()
    signature = kv.call("POST", path + "/sign", json={"alg": "PS256", "value": b64(digest)})
    public.verify(unb64(signature.json()["value"]), digest,
                  padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                  __import__("cryptography.hazmat.primitives.asymmetric.utils",
                             fromlist=["Prehashed"]).Prehashed(hashes.SHA256()))
    verified = kv.call("POST", path + "/verify", json={
        "alg": "PS256", "digest": b64(digest), "value": signature.json()["value"]})
    assert verified.json() == {"value": True}
    forged = kv.call("POST", path + "/verify", json={
        "alg": "PS256", "digest": b64(digest), "value": b64(b"\x00" * 256)})
    assert forged.json() == {"value": False}


def test_operation_errors(kv):
    rsa_body = kv.call("POST", "/keys/r/create", json={"kty": "RSA", "key_ops": ["sign"]}).json()
    ec_body = kv.call("POST", "/keys/e/create", json={"kty": "EC", "crv": "P-256"}).json()
    rsa_path = "/keys/r/" + rsa_body["key"]["kid"].rsplit("/", 1)[1]
    ec_path = "/keys/e/" + ec_body["key"]["kid"].rsplit("/", 1)[1]
    assert error_of(kv.call("POST", rsa_path + "/sign", json={
        "alg": "RS256", "value": b64(b"short")})) == (400, {"error": {
            "code": "BadParameter",
            "message": "Invalid digest length for algorithm 'RS256': expected 32 bytes, got 5."}})
    assert error_of(kv.call("POST", rsa_path + "/sign", json={
        "alg": "ES256", "value": b64(b"x" * 32)})) == (400, {"error": {
            "code": "BadParameter", "message": "Key and algorithm are not compatible: 'ES256'."}})
    assert error_of(kv.call("POST", rsa_path + "/sign", json={
        "alg": "XX1", "value": b64(b"x" * 32)}))[1]["error"]["message"] == \
        "Invalid algorithm: 'XX1'."
    assert error_of(kv.call("POST", rsa_path + "/encrypt", json={
        "alg": "RSA-OAEP", "value": b64(b"x")})) == (403, {"error": {
            "code": "Forbidden", "message": "Operation encrypt is not permitted for this key."}})
    assert error_of(kv.call("POST", ec_path + "/sign", json={
        "alg": "ES384", "value": b64(b"x" * 48)}))[0] == 400
    assert error_of(kv.call("POST", ec_path + "/frobnicate", json={}))[0] == 404
    assert error_of(kv.call("GET", "/keys/nope")) == (404, {"error": {
        "code": "KeyNotFound",
        "message": "A key with (name/id) nope was not found in this key vault. If you recently "
                   "deleted this key you may be able to recover it using the correct recovery "
                   "command. For help resolving this issue, please see "
                   "https://go.microsoft.com/fwlink/?linkid=2125182"}})
    assert error_of(kv.call("POST", "/keys/n/" + "0" * 32 + "/sign", json={
        "alg": "RS256", "value": b64(b"x" * 32)}))[1]["error"]["code"] == "KeyNotFound"


def test_create_refusals(kv):
    for body, message in (
            ({"kty": "RSA", "key_size": 1024},
             "Invalid key size: 1024. RSA keys must be 2048, 3072 or 4096 bits."),
            ({"kty": "EC", "crv": "P-999"}, "Invalid curve name: P-999."),
            ({"kty": "oct"},
             "The key type 'oct' is not supported in a vault (oct keys need a Managed HSM)."),
            ({}, "Property kty is required")):
        assert error_of(kv.call("POST", "/keys/k/create", json=body)) == (400, {"error": {
            "code": "BadParameter", "message": message}}), body


def test_deleted_key_shapes(kv):
    created = kv.call("POST", "/keys/d/create", json={"kty": "EC"}).json()
    deleted = kv.call("DELETE", "/keys/d").json()
    assert deleted["recoveryId"] == f"{kv.url}/deletedkeys/d"
    assert deleted["key"] == created["key"]
    listed = kv.call("GET", "/deletedkeys").json()
    assert [item["kid"] for item in listed["value"]] == [f"{kv.url}/keys/d"]
    assert kv.call("DELETE", "/deletedkeys/d").status_code == 204
    assert error_of(kv.call("GET", "/deletedkeys/d")) == (404, {"error": {
        "code": "KeyNotFound", "message": "Deleted Key not found: d"}})
