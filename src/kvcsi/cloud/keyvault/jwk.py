"""JSON Web Keys (RFC 7517/7518) as Key Vault writes and reads them.

Counterpart of Key Vault's ``JsonWebKey``: RSA keys carry ``n``/``e`` (and, on import only,
``d``/``p``/``q``/``dp``/``dq``/``qi``); EC keys ``crv``/``x``/``y`` (and ``d`` on import),
coordinates left-padded to the curve size. Every binary field is base64url without padding.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kvcsi.cloud.keyvault.errors import BadParameter

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
    "P-256K": ec.SECP256K1,
}
CURVE_NAMES = {curve.name: name for name, curve in CURVES.items()}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def from_b64url(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise BadParameter(f"Property {field} has invalid value")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise BadParameter(f"Property {field} has invalid value") from None


def _int_bytes(value: int, length: int | None = None) -> bytes:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(size, "big")


def _int(jwk: dict[str, Any], field: str) -> int:
    return int.from_bytes(from_b64url(jwk.get(field), field), "big")


def curve_size(curve: ec.EllipticCurve) -> int:
    return (curve.key_size + 7) // 8


def public_jwk(key: PrivateKey | PublicKey) -> dict[str, str]:
    """The public members of a key (no ``kid``, ``kty`` or ``key_ops``)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) \
        else key
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}
    ec_numbers = public.public_numbers()
    size = curve_size(public.curve)
    return {"crv": CURVE_NAMES[public.curve.name], "x": b64url(_int_bytes(ec_numbers.x, size)),
            "y": b64url(_int_bytes(ec_numbers.y, size))}


def private_key_from_jwk(jwk: dict[str, Any]) -> PrivateKey:
    """The private key of an imported JWK (RSA with all CRT members, or EC with ``d``)."""
    kty = str(jwk.get("kty", ""))
    try:
        if kty in ("RSA", "RSA-HSM"):
            public = rsa.RSAPublicNumbers(_int(jwk, "e"), _int(jwk, "n"))
            d, p, q = _int(jwk, "d"), _int(jwk, "p"), _int(jwk, "q")
            dp = _int(jwk, "dp") if "dp" in jwk else rsa.rsa_crt_dmp1(d, p)
            dq = _int(jwk, "dq") if "dq" in jwk else rsa.rsa_crt_dmq1(d, q)
            qi = _int(jwk, "qi") if "qi" in jwk else rsa.rsa_crt_iqmp(p, q)
            return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public).private_key()
        if kty in ("EC", "EC-HSM"):
            curve = CURVES.get(str(jwk.get("crv")))
            if curve is None:
                raise BadParameter(f"Unsupported curve: {jwk.get('crv')}")
            return ec.derive_private_key(_int(jwk, "d"), curve())
    except ValueError as error:
        raise BadParameter(f"The key is not valid: {error}") from None
    raise BadParameter(f"Unsupported key type for import: {kty or '(none)'}")
