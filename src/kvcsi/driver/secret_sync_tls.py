"""``kubernetes.io/tls`` Secrets: split a mounted PEM or PFX into ``tls.crt`` and ``tls.key``.

Upstream counterpart: ``GetCertPart`` / ``getCert`` / ``getPrivateKey`` in
``pkg/util/secretutil`` (reference notes §4.2): ``tls.crt`` keeps only the CERTIFICATE blocks
(in file order), ``tls.key`` the private key normalised to PKCS#1 ``RSA PRIVATE KEY`` or SEC1
``EC PRIVATE KEY`` (other key types stay PKCS#8 ``PRIVATE KEY``); content without any PEM
block is read as a PKCS#12 (PFX) with an empty password. Any other key is refused.
"""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

TLS_TYPE = "kubernetes.io/tls"
TLS_CERT_KEY = "tls.crt"
TLS_PRIVATE_KEY_KEY = "tls.key"

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.DOTALL
)


class TlsSplitError(Exception):
    pass


def tls_part(content: bytes, key: str) -> bytes:
    """The bytes stored under ``key`` of a TLS Secret built from ``content``."""
    if key == TLS_PRIVATE_KEY_KEY:
        return private_key_pem(content)
    if key == TLS_CERT_KEY:
        return certificates_pem(content)
    raise TlsSplitError("tls key is not supported. Only tls.key and tls.crt are supported")


def _blocks(content: bytes) -> list[tuple[str, bytes]]:
    return [(m.group(1).decode(), m.group(0)) for m in _PEM_BLOCK.finditer(content)]


def certificates_pem(content: bytes) -> bytes:
    blocks = _blocks(content)
    if not blocks:
        _key, certificates = _from_pfx(content)
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    certs = [block if block.endswith(b"\n") else block + b"\n"
             for kind, block in blocks if kind == "CERTIFICATE"]
    if not certs:
        raise TlsSplitError("failed to get certificate: no CERTIFICATE block found")
    return b"".join(certs)


def private_key_pem(content: bytes) -> bytes:
    blocks = _blocks(content)
    if not blocks:
        key, _certificates = _from_pfx(content)
        if key is None:
            raise TlsSplitError("failed to get private key: the PFX holds no private key")
        return _normalised(key)
    for kind, block in blocks:
        if kind.endswith("PRIVATE KEY"):
            try:
                key = serialization.load_pem_private_key(block, password=None)
            except (ValueError, TypeError) as error:
                raise TlsSplitError(f"failed to parse private key: {error}") from None
            return _normalised(key)
    raise TlsSplitError("failed to get private key: no PRIVATE KEY block found")


def _normalised(key: object) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        private_format = serialization.PrivateFormat.TraditionalOpenSSL
    else:
        private_format = serialization.PrivateFormat.PKCS8
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    )


def _from_pfx(content: bytes) -> tuple[object | None, list[x509.Certificate]]:
    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(content, b"")
    except ValueError:
        try:
            key, certificate, extra = pkcs12.load_key_and_certificates(content, None)
        except ValueError as error:
            raise TlsSplitError(
                f"failed to decode content as PEM or PFX (empty password): {error}"
            ) from None
    certificates = ([certificate] if certificate is not None else []) + list(extra or [])
    return key, certificates
