"""The local token service's signing key and its published form (JWKS).

Entra signs access tokens with RSA keys published at ``/discovery/keys``; each JWK carries
``kid`` and ``x5t`` (the base64url SHA-1 thumbprint of the key's certificate) and ``x5c``.
The local cloud keeps one RSA-2048 key (``cloud/signing-key.pem``, 0600) and a self-signed
certificate for it (``cloud/signing-cert.pem``), created once per state directory.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kvcsi.cloud.statefiles import cloud_dir, write_atomically, write_private


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """One RS256 key with its certificate and key id."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def key_id(self) -> str:
        return b64url(self.certificate.fingerprint(hashes.SHA1()))  # noqa: S303 - x5t is SHA-1

    def jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.key_id,
            "x5t": self.key_id,
            "n": _int_b64url(numbers.n),
            "e": _int_b64url(numbers.e),
            "x5c": [base64.b64encode(der).decode("ascii")],
        }


def _create(key_path: Path, cert_path: Path) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kvcsi local token signing")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    write_private(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return SigningKey(key, cert)


def load_or_create_signing_key(home: Path | str) -> SigningKey:
    directory = cloud_dir(home)
    key_path, cert_path = directory / "signing-key.pem", directory / "signing-cert.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return SigningKey(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))
    return _create(key_path, cert_path)
