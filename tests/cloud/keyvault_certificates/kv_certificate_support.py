"""Helpers of the certificate tests: test certificates made with ``cryptography`` (roots,
intermediates, leaves, RSA and EC, PFX with and without password, PEM) and a vault with
SDK clients and a raw HTTPS caller. ``conftest.py`` turns them into fixtures."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from azure.identity import ClientSecretCredential
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    key: PrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Chain:
    """root -> intermediate -> leaf."""

    root: Issued
    intermediate: Issued
    leaf: Issued


class Pki:
    """Makes keys, certificates and PKCS#12/PEM containers for tests."""

    def __init__(self) -> None:
        self._rsa: PrivateKey | None = None

    def key(self, kind: str = "ec") -> PrivateKey:
        if kind == "rsa":
            if self._rsa is None:  # RSA generation is slow: one key per test
                self._rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._rsa
        return ec.generate_private_key(ec.SECP256R1())

    def issue(self, common_name: str, *, issuer: Issued | None = None, ca: bool = False,
              kind: str = "ec", days: int = 30, dns_names: tuple[str, ...] = ()) -> Issued:
        key = self.key(kind)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        builder = (x509.CertificateBuilder().subject_name(subject)
                   .issuer_name(issuer.certificate.subject if issuer else subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  critical=False))
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    issuer.key.public_key()),  # type: ignore[arg-type]
                critical=False)
        if dns_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), False)
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        signer = issuer.key if issuer is not None else key
        return Issued(key, builder.sign(signer, hashes.SHA256()))

    def chain(self, leaf_kind: str = "ec") -> Chain:
        root = self.issue("Test Root", ca=True, days=3650)
        intermediate = self.issue("Test Intermediate", issuer=root, ca=True, days=1825)
        leaf = self.issue("leaf.example.com", issuer=intermediate, kind=leaf_kind,
                          dns_names=("leaf.example.com", "www.example.com"))
        return Chain(root, intermediate, leaf)

    @staticmethod
    def pfx(issued: Issued, extra: list[x509.Certificate] | None = None,
            password: str | None = None) -> str:
        encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                      else serialization.NoEncryption())
        data = pkcs12.serialize_key_and_certificates(b"friendly", issued.key,
                                                     issued.certificate, extra, encryption)
        return base64.b64encode(data).decode()


CERTIFICATE_ACTIONS = tuple(
    "Microsoft.KeyVault/vaults/certificates/" + action for action in (
        "read", "create/action", "import/action", "update/action", "delete",
        "recover/action", "purge/action", "backup/action", "restore/action"))
CERTIFICATE_ACTIONS += tuple("Microsoft.KeyVault/vaults/" + action for action in (
    "certificatecas/read", "certificatecas/write", "certificatecas/delete",
    "certificatecontacts/write"))
SECRET_ACTIONS = tuple(
    "Microsoft.KeyVault/vaults/secrets/" + action for action in (
        "getSecret/action", "readMetadata/action", "setSecret/action", "delete"))
KEY_ACTIONS = ("Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/delete")


@dataclass
class CertificateVault:
    """A fresh RBAC vault with an app allowed every certificate operation, and clients."""

    cloud: Any
    vault: dict
    app: Any
    rbac: Any

    @property
    def url(self) -> str:
        return self.cloud.vault_url(self.vault["name"])

    def credential(self, app: Any = None) -> ClientSecretCredential:
        app = app or self.app
        return ClientSecretCredential(app.tenant_id, app.client_id, app.client_secret,
                                      authority=self.cloud.authority,
                                      disable_instance_discovery=True,
                                      connection_verify=self.cloud.ca_bundle)

    def certificates(self, app: Any = None, **options: Any) -> CertificateClient:
        return CertificateClient(self.url, self.credential(app),
                                 connection_verify=self.cloud.ca_bundle, **options)

    def secrets(self, app: Any = None) -> SecretClient:
        return SecretClient(self.url, self.credential(app),
                            connection_verify=self.cloud.ca_bundle)

    def keys(self, app: Any = None) -> KeyClient:
        return KeyClient(self.url, self.credential(app), connection_verify=self.cloud.ca_bundle)

    def token(self, app: Any = None) -> str:
        app = app or self.app
        response = requests.post(
            f"{self.cloud.authority}/{self.cloud.tenant_id}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "client_id": app.client_id,
                  "client_secret": app.client_secret, "scope": self.cloud.keyvault_scope},
            verify=self.cloud.ca_bundle, timeout=10)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def call(self, method: str, path: str, *, token: str | None = None,
             api_version: str = "7.6", json: Any = None, params: dict | None = None
             ) -> requests.Response:
        query = {"api-version": api_version, **(params or {})}
        return requests.request(method, self.url + path, params=query, json=json,
                                headers={"Authorization": f"Bearer {token or self.token()}"},
                                verify=self.cloud.ca_bundle, timeout=10)


def vault_name_for(request: pytest.FixtureRequest) -> str:
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    return "cv" + re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:12] + digest
