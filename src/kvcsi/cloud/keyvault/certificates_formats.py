"""Certificate material in and out of Key Vault's two secret formats: PKCS#12 and PEM.

Counterpart of what Key Vault does with an imported ``value`` and with the backing secret of
a certificate. An import is parsed into a private key and its chain (the order of the PEM
blocks, or of the PFX's certificate bags, is kept). The backing secret value is either a
PFX with no password, base64 (``application/x-pkcs12``), or PEM text: the private key
(PKCS#8 ``PRIVATE KEY``) then every certificate of the chain (``application/x-pem-file``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from kvcsi.cloud.keyvault.errors import BadParameter

PKCS12 = "application/x-pkcs12"
PEM = "application/x-pem-file"
CONTENT_TYPES = (PKCS12, PEM)
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")


@dataclass(frozen=True)
class CertificateMaterial:
    """A private key (None for a certificate imported without one) and its chain.

    ``chain`` holds every certificate in the order it is to be served; ``leaf`` is the one
    whose public key matches ``private_key`` (or the first one).
    """

    private_key: PrivateKey | None
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def _public_der(key: object) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined]
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _find_leaf(private_key: PrivateKey | None,
               certificates: list[x509.Certificate]) -> x509.Certificate:
    if private_key is not None:
        wanted = _public_der(private_key.public_key())
        for certificate in certificates:
            if _public_der(certificate.public_key()) == wanted:
                return certificate
        raise BadParameter("The private key does not match any certificate in the "
                           "certificate content.")
    return certificates[0]


def _check_key_type(key: object) -> PrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise BadParameter("Only RSA and EC private keys are supported.")
    return key


def material(private_key: PrivateKey | None, certificates: list[x509.Certificate],
             *, preserve_order: bool) -> CertificateMaterial:
    """The material of an import: the leaf first unless the order is to be preserved."""
    if not certificates:
        raise BadParameter("The certificate content does not contain any X.509 certificate.")
    leaf = _find_leaf(private_key, certificates)
    chain = list(certificates)
    if not preserve_order:
        chain.remove(leaf)
        chain.insert(0, leaf)
    return CertificateMaterial(private_key, leaf, tuple(chain))


def parse_pem(text: str, password: str | None) -> tuple[PrivateKey | None,
                                                         list[x509.Certificate]]:
    """The key and certificates of PEM text, certificates in block order."""
    key: PrivateKey | None = None
    certificates: list[x509.Certificate] = []
    for match in _PEM_BLOCK.finditer(text):
        label, block = match.group(1), match.group(0).encode("ascii", "replace")
        try:
            if label == "CERTIFICATE":
                certificates.append(x509.load_pem_x509_certificate(block))
            elif label in _KEY_LABELS:
                if key is not None:
                    raise BadParameter("The PEM content contains more than one private key.")
                key = _check_key_type(serialization.load_pem_private_key(
                    block, password.encode() if password else None))
        except (ValueError, TypeError):
            raise BadParameter("The specified PEM X.509 certificate content is in an "
                               "unexpected format. Please check if certificate is in valid PEM "
                               "format.") from None
    return key, certificates


def _load_pfx(data: bytes, password: str | None) -> tuple[PrivateKey | None,
                                                         list[x509.Certificate]]:
    try:
        bundle = pkcs12.load_pkcs12(data, password.encode() if password else None)
    except ValueError:
        raise BadParameter("The specified PKCS#12 X.509 certificate content can not be read. "
                           "Please check if certificate is in valid PKCS#12 format and the "
                           "password is correct.") from None
    certificates = [c.certificate for c in bundle.additional_certs]
    if bundle.cert is not None:
        certificates.insert(0, bundle.cert.certificate)
    key = _check_key_type(bundle.key) if bundle.key is not None else None
    return key, certificates


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadParameter("The specified certificate content is neither PEM text nor valid "
                           "base64.") from None


def parse_pfx(value: str, password: str | None) -> tuple[PrivateKey | None,
                                                         list[x509.Certificate]]:
    """The key and certificates of a base64 PFX: its key's certificate, then the others."""
    return _load_pfx(_b64decode(value), password)


def looks_like_pem(value: str) -> bool:
    return "-----BEGIN " in value


def import_content(value: str) -> tuple[str, str | bytes]:
    """What an import ``value`` holds: ``(PEM, text)`` for PEM text or base64 of PEM text
    (the SDKs base64 every value), else ``(PKCS12, PFX bytes)``."""
    if looks_like_pem(value):
        return PEM, value
    data = _b64decode(value)
    if b"-----BEGIN " in data:
        return PEM, data.decode("utf-8", "replace")
    return PKCS12, data


def parse_import(value: str, password: str | None, content_type: str | None,
                 *, preserve_order: bool) -> tuple[CertificateMaterial, str]:
    """Parse an import ``value``; returns its material and content type. A declared
    ``content_type`` (the policy's ``secret_props``) must match what the value holds."""
    found, content = import_content(value)
    if content_type is not None and content_type != found:
        if content_type == PEM:
            raise BadParameter("The specified PEM X.509 certificate content is in an "
                               "unexpected format. Please check if certificate is in valid "
                               "PEM format.")
        raise BadParameter("The specified PKCS#12 X.509 certificate content can not be read. "
                           "Please check if certificate is in valid PKCS#12 format and the "
                           "password is correct.")
    if isinstance(content, str):
        key, certificates = parse_pem(content, password)
    else:
        key, certificates = _load_pfx(content, password)
    return material(key, certificates, preserve_order=preserve_order), found


def pfx_bytes(item: CertificateMaterial) -> bytes:
    """A PFX with no password: the key and its leaf, then the other certificates in order."""
    others = [c for c in item.chain if c is not item.leaf]
    return pkcs12.serialize_key_and_certificates(
        None, item.private_key, item.leaf, others or None, serialization.NoEncryption())


def pem_text(item: CertificateMaterial) -> str:
    """The private key (PKCS#8) then every certificate of the chain, in chain order."""
    parts: list[str] = []
    if item.private_key is not None:
        parts.append(item.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii"))
    parts.extend(c.public_bytes(serialization.Encoding.PEM).decode("ascii")
                 for c in item.chain)
    return "".join(parts)


def secret_value(item: CertificateMaterial, content_type: str) -> str:
    """The backing secret's value in ``content_type``."""
    if content_type == PEM:
        return pem_text(item)
    return base64.b64encode(pfx_bytes(item)).decode("ascii")


def read_secret_value(value: str, content_type: str) -> CertificateMaterial:
    """The material of a backing secret value (order as stored)."""
    if content_type == PEM:
        key, certificates = parse_pem(value, None)
    else:
        key, certificates = parse_pfx(value, None)
    return material(key, certificates, preserve_order=True)


def convert_secret_value(value: str, content_type: str, out_content_type: str) -> str:
    """A backing secret's value converted to ``out_content_type`` (PFX <-> PEM)."""
    if out_content_type not in CONTENT_TYPES:
        raise BadParameter(f"The specified outContentType ({out_content_type}) is not "
                           f"supported. Supported values: {', '.join(CONTENT_TYPES)}.")
    if out_content_type == content_type:
        return value
    return secret_value(read_secret_value(value, content_type), out_content_type)


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def x5t(certificate: x509.Certificate) -> str:
    """base64url (no padding) SHA-1 thumbprint of the DER certificate."""
    digest = hashlib.sha1(der(certificate), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def cer(certificate: x509.Certificate) -> str:
    """Standard base64 of the DER certificate (the bundle's ``cer``)."""
    return base64.b64encode(der(certificate)).decode("ascii")
