"""What a Key Vault object's file holds: certificate, public key and PKCS#12 conversions.

Upstream counterpart: ``getCertificate``, ``getKey``, ``getSecret`` and ``decodePKCS12`` in
``pkg/provider/provider.go``. Output PEM is Go ``pem.Encode``: 64-column base64, one trailing
newline per block (headers such as ``Proc-Type`` kept, ``Proc-Type`` first, as Go writes them).

======================================  =================================================
object                                  file
======================================  =================================================
``cert``                                the leaf certificate (``cer``) as one CERTIFICATE
``key`` (RSA, EC P-256/384/521)         the public key as one PUBLIC KEY (SPKI) block
``secret``, not certificate-backed      the value as stored
``secret``, ``application/x-pem-file``  the value as stored (never reordered)
``secret``, ``application/x-pkcs12``    the private key as PKCS#8 PRIVATE KEY, then the
                                        certificates leaf → root (``--construct-pem-chain``,
                                        see :mod:`~kvcsi.provider.chain`), else PFX order;
                                        with ``objectFormat: pfx`` the value (base64 text)
======================================  =================================================

PFX order: ``cryptography`` does not report bag order, so it is recovered from where each
certificate's DER sits in the PFX (exact for unencrypted certificate bags); with encrypted
certificate bags the certificate matching the key comes first, then the others in bag order.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from kvcsi.provider.chain import order_chain
from kvcsi.provider.content_encoding import decode_base64

CONTENT_TYPE_PEM = "application/x-pem-file"
CONTENT_TYPE_PKCS12 = "application/x-pkcs12"

CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
RSA_KEY_TYPES = ("RSA", "RSA-HSM")
EC_KEY_TYPES = ("EC", "EC-HSM")

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


class FormatError(ValueError):
    """A conversion failed; ``str()`` is the reason (upstream wording where there is one)."""


@dataclass(frozen=True)
class PemBlock:
    kind: str
    der: bytes
    headers: tuple[tuple[str, str], ...] = ()


def pem_encode(kind: str, der: bytes, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """Go ``pem.EncodeToMemory``: headers (``Proc-Type`` first, others sorted), 64 columns."""
    ordered = sorted(headers, key=lambda item: (item[0] != "Proc-Type", item[0]))
    head = "".join(f"{key}: {value}\n" for key, value in ordered)
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return (f"-----BEGIN {kind}-----\n" + (head + "\n" if head else "")
            + "".join(f"{line}\n" for line in lines) + f"-----END {kind}-----\n"
            ).encode("ascii")


def pem_blocks(data: bytes) -> list[PemBlock]:
    """Every PEM block of ``data``, with its headers."""
    blocks = []
    for match in _PEM_BLOCK.finditer(data):
        headers: list[tuple[str, str]] = []
        body: list[bytes] = []
        for line in match.group(2).splitlines():
            if b":" in line and not body:
                key, _, value = line.decode("ascii", "replace").partition(":")
                headers.append((key.strip(), value.strip()))
            else:
                body.append(line.strip())
        try:
            der = base64.b64decode(b"".join(body), validate=True)
        except ValueError:
            continue
        blocks.append(PemBlock(match.group(1).decode("ascii"), der, tuple(headers)))
    return blocks


def certificate_pem(cer: bytes) -> bytes:
    """``objectType: cert``: the certificate's DER as one CERTIFICATE block."""
    return pem_encode("CERTIFICATE", cer)


@dataclass(frozen=True)
class JsonWebKey:
    """The public part of a Key Vault key (``key.kty``, ``n``, ``e``, ``crv``, ``x``, ``y``)."""

    kty: str
    n: bytes | None = None
    e: bytes | None = None
    crv: str | None = None
    x: bytes | None = None
    y: bytes | None = None


def public_key_pem(jwk: JsonWebKey) -> bytes:
    """``objectType: key``: the public key as one PUBLIC KEY (SPKI) block."""
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    if jwk.kty in RSA_KEY_TYPES:
        if not jwk.n or not jwk.e:
            raise FormatError("failed to get key. RSA key has no modulus or exponent")
        public_key = rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"),
                                          int.from_bytes(jwk.n, "big")).public_key()
    elif jwk.kty in EC_KEY_TYPES:
        curve = CURVES.get(jwk.crv or "")
        if curve is None:
            raise FormatError(f"curve {jwk.crv} is not supported")
        if not jwk.x or not jwk.y:
            raise FormatError("failed to get key. EC key has no x or y coordinate")
        try:
            public_key = ec.EllipticCurvePublicNumbers(
                int.from_bytes(jwk.x, "big"), int.from_bytes(jwk.y, "big"), curve).public_key()
        except ValueError as error:
            raise FormatError(f"failed to get key. {error}") from None
    else:
        raise FormatError(f"failed to get key. key type '{jwk.kty}' currently not supported")
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem_encode("PUBLIC KEY", der)


@dataclass(frozen=True)
class ConvertedPkcs12:
    pem: bytes
    chain_problem: str | None  # set when the certificates were left in PFX order


def _load_pkcs12(data: bytes) -> pkcs12.PKCS12KeyAndCertificates:
    last_error: Exception | None = None
    for password in (None, b""):
        try:
            return pkcs12.load_pkcs12(data, password)
        except (ValueError, TypeError) as error:
            last_error = error
    raise FormatError(f"pkcs12: {last_error}")


def _pfx_order(data: bytes, bundle: pkcs12.PKCS12KeyAndCertificates) -> list[x509.Certificate]:
    certificates = ([bundle.cert.certificate] if bundle.cert is not None else []) + [
        extra.certificate for extra in bundle.additional_certs]
    offsets = [data.find(cert.public_bytes(serialization.Encoding.DER))
               for cert in certificates]
    if all(offset >= 0 for offset in offsets):
        return [cert for _, cert in sorted(zip(offsets, certificates, strict=True),
                                           key=lambda pair: pair[0])]
    return certificates


def pkcs12_to_pem(value: str, construct_chain: bool) -> ConvertedPkcs12:
    """The PEM a PKCS#12-backed secret becomes: PKCS#8 key, then the certificates."""
    try:
        data = decode_base64(value)
    except ValueError as error:
        raise FormatError(str(error)) from None
    bundle = _load_pkcs12(data)
    parts: list[bytes] = []
    if bundle.key is not None:
        parts.append(bundle.key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    certificates = _pfx_order(data, bundle)
    problem = None
    if construct_chain:
        ordered = order_chain(certificates)
        certificates, problem = ordered.certificates, ordered.problem
    parts.extend(cert.public_bytes(serialization.Encoding.PEM) for cert in certificates)
    return ConvertedPkcs12(b"".join(parts), problem)


def split_certificate_and_key(pem: bytes) -> tuple[bytes, bytes]:
    """``--write-cert-and-key-in-separate-files``: (CERTIFICATE blocks, every other block)."""
    blocks = pem_blocks(pem)
    certificates = b"".join(pem_encode(b.kind, b.der, b.headers)
                            for b in blocks if b.kind == "CERTIFICATE")
    others = b"".join(pem_encode(b.kind, b.der, b.headers)
                      for b in blocks if b.kind != "CERTIFICATE")
    return certificates, others
