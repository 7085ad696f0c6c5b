"""Server-side key operations: sign, verify, encrypt, decrypt, wrapKey, unwrapKey.

Counterpart of ``POST /keys/{name}/{version}/{operation}``. Algorithms (JWA names):
``RSA-OAEP`` (OAEP with SHA-1, as the standard says), ``RSA-OAEP-256``, ``RSA1_5`` for
encrypt/decrypt/wrap/unwrap on RSA keys; ``RS256/384/512`` (PKCS#1 v1.5), ``PS256/384/512``
(PSS, salt length = digest length) on RSA keys and ``ES256/384/512/256K`` on the matching
EC curve for sign/verify. Signing takes the digest, as Key Vault does; EC signatures are the
JWS ``r || s`` form. Anything else is a 400 ``BadParameter``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from kvcsi.cloud.keyvault.errors import BadParameter
from kvcsi.cloud.keyvault.jwk import PrivateKey, PublicKey, curve_size

ENCRYPTION_ALGORITHMS = ("RSA-OAEP", "RSA-OAEP-256", "RSA1_5")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1",
              "ES256K": "secp256k1"}
_EC_HASHES = {"ES256": hashes.SHA256, "ES384": hashes.SHA384, "ES512": hashes.SHA512,
              "ES256K": hashes.SHA256}


def _incompatible(algorithm: str) -> BadParameter:
    return BadParameter(f"Key and algorithm are not compatible: '{algorithm}'.")


def _rsa_padding(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm == "RSA-OAEP":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    if algorithm == "RSA-OAEP-256":
        return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                            label=None)
    if algorithm == "RSA1_5":
        return padding.PKCS1v15()
    raise BadParameter(f"Invalid algorithm: '{algorithm}'.")


def encrypt(key: PrivateKey | PublicKey, algorithm: str, plaintext: bytes) -> bytes:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) \
        else key
    if not isinstance(public, rsa.RSAPublicKey):
        raise _incompatible(algorithm)
    try:
        return public.encrypt(plaintext, _rsa_padding(algorithm))
    except ValueError:
        raise BadParameter("The plaintext is too long for the key and algorithm.") from None


def decrypt(key: PrivateKey, algorithm: str, ciphertext: bytes) -> bytes:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _incompatible(algorithm)
    try:
        return key.decrypt(ciphertext, _rsa_padding(algorithm))
    except ValueError:
        raise BadParameter("Failed to decrypt: the ciphertext is not valid for this key "
                           "and algorithm.") from None


def _signature_scheme(key: PrivateKey | PublicKey, algorithm: str, digest: bytes):
    """``(padding or None, prehashed)`` for ``algorithm``, checking key type and digest."""
    if algorithm[:2] in ("RS", "PS") and algorithm[2:] in _HASHES:
        if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            raise _incompatible(algorithm)
        hash_type = _HASHES[algorithm[2:]]
        pad = padding.PKCS1v15() if algorithm[:2] == "RS" else padding.PSS(
            mgf=padding.MGF1(hash_type()), salt_length=hash_type.digest_size)
    elif algorithm in _EC_CURVES:
        if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) or \
                key.curve.name != _EC_CURVES[algorithm]:
            raise _incompatible(algorithm)
        hash_type, pad = _EC_HASHES[algorithm], None
    else:
        raise BadParameter(f"Invalid algorithm: '{algorithm}'.")
    if len(digest) != hash_type.digest_size:
        raise BadParameter(f"Invalid digest length for algorithm '{algorithm}': expected "
                           f"{hash_type.digest_size} bytes, got {len(digest)}.")
    return pad, utils.Prehashed(hash_type())


def sign(key: PrivateKey, algorithm: str, digest: bytes) -> bytes:
    pad, prehashed = _signature_scheme(key, algorithm, digest)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(digest, pad, prehashed)
    der = key.sign(digest, ec.ECDSA(prehashed))
    r, s = utils.decode_dss_signature(der)
    size = curve_size(key.curve)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def verify(key: PrivateKey | PublicKey, algorithm: str, digest: bytes,
           signature: bytes) -> bool:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) \
        else key
    pad, prehashed = _signature_scheme(public, algorithm, digest)
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, digest, pad, prehashed)
        else:
            size = curve_size(public.curve)
            if len(signature) != 2 * size:
                return False
            der = utils.encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                             int.from_bytes(signature[size:], "big"))
            public.verify(der, digest, ec.ECDSA(prehashed))
    except InvalidSignature:
        return False
    return True
