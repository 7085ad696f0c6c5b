"""Certificates, chains and PKCS#12 bundles for the provider tests, made with ``cryptography``."""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOT_BEFORE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(common_name: str, key: PrivateKey, issuer: x509.Certificate | None = None,
                issuer_key: PrivateKey | None = None, *, ca: bool = False, ski: bool = True,
                aki: bool = True) -> x509.Certificate:
    """A certificate for ``key``; self-signed when ``issuer`` is None."""
    builder = (x509.CertificateBuilder()
               .subject_name(name(common_name))
               .issuer_name(issuer.subject if issuer is not None else name(common_name))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOT_BEFORE)
               .not_valid_after(NOT_BEFORE + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    signer = issuer_key if issuer_key is not None else key
    if aki and issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False)
    return builder.sign(signer, hashes.SHA256())


@dataclass(frozen=True)
class Chain:
    """Leaf ``CN=app.example.test`` ← ``CN=Test Int`` ← ``CN=Test Root`` (case BB-06)."""

    leaf_key: PrivateKey
    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate

    def pfx(self, order: tuple[str, ...] = ("root", "intermediate", "leaf"),
            password: bytes | None = None) -> bytes:
        """A PKCS#12 with the key and the certificates in ``order`` (bag order)."""
        certs = [getattr(self, part) for part in order]
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password
            else serialization.NoEncryption())
        return pkcs12.serialize_key_and_certificates(b"MyCert", self.leaf_key, None, certs,
                                                     encryption)

    def pfx_base64(self, order: tuple[str, ...] = ("root", "intermediate", "leaf")) -> str:
        return base64.b64encode(self.pfx(order)).decode("ascii")

    def key_pkcs8_pem(self) -> bytes:
        return self.leaf_key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())

    def pem(self, *parts: str) -> bytes:
        return b"".join(getattr(self, part).public_bytes(serialization.Encoding.PEM)
                        for part in parts)


def make_chain(*, leaf_key: PrivateKey | None = None, ski: bool = True,
               aki: bool = True) -> Chain:
    root_key = ec.generate_private_key(ec.SECP256R1())
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = leaf_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = certificate("Test Root", root_key, ca=True, ski=ski)
    intermediate = certificate("Test Int", intermediate_key, root, root_key, ca=True, ski=ski,
                               aki=aki)
    leaf = certificate("app.example.test", leaf_key, intermediate, intermediate_key, ski=ski,
                       aki=aki)
    return Chain(leaf_key, leaf, intermediate, root)


def public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
