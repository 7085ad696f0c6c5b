"""Fixtures for the provider tests: request attributes and a fake Key Vault gateway."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kvcsi.provider.auth import AuthConfig
from kvcsi.provider.clouds import CloudEnvironment
from kvcsi.provider.formats import JsonWebKey
from kvcsi.provider.keyvault import (
    CertificateBundle,
    KeyBundle,
    KeyVaultFetchError,
    SecretBundle,
    VersionItem,
)

ONE_SECRET = """
array:
  - |
    objectName: db-password
    objectType: secret
"""


def base_attributes() -> dict[str, str]:
    return {
        "csi.storage.k8s.io/pod.name": "app-0",
        "csi.storage.k8s.io/pod.namespace": "default",
        "csi.storage.k8s.io/pod.uid": "0b2f8d3e-0000-4000-8000-000000000001",
        "csi.storage.k8s.io/serviceAccount.name": "default",
        "csi.storage.k8s.io/ephemeral": "true",
        "secretProviderClass": "azure-kvname",
        "keyvaultName": "kvname",
        "tenantID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "useVMManagedIdentity": "true",
        "userAssignedIdentityID": "11111111-2222-3333-4444-555555555555",
        "objects": ONE_SECRET,
    }


@pytest.fixture
def attributes() -> Callable[..., str]:
    """``attributes(**changes)``: the JSON attributes string; a value of None drops the key."""

    def build(**changes: str | None) -> str:
        values = base_attributes()
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        return json.dumps(values)

    return build


@dataclass
class FakeKeyVault:
    """A KeyVaultGateway holding versions per secret name (last = latest), keys and certs.

    ``listings`` maps ``(object_type, name)`` to the versions listing; ``errors`` maps a
    name to the error every call for it raises.
    """

    secrets: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    content_types: dict[str, tuple[str, str]] = field(default_factory=dict)
    keys: dict[str, list[tuple[str, JsonWebKey]]] = field(default_factory=dict)
    certificates: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)
    listings: dict[tuple[str, str], list[VersionItem]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, AuthConfig, str, str]] = field(default_factory=list)
    block: Callable[[], None] | None = None

    @staticmethod
    def _pick(versions: list[tuple[str, Any]], name: str, version: str) -> tuple[str, Any]:
        if not versions:
            raise KeyVaultFetchError(f"{name} was not found in this key vault.")
        if not version:
            return versions[-1]
        for candidate in versions:
            if candidate[0] == version:
                return candidate
        raise KeyVaultFetchError(f"version {version} of {name} was not found")

    def _enter(self, vault_url: str, auth: AuthConfig, name: str, version: str) -> None:
        self.calls.append((vault_url, auth, name, version))
        if self.block is not None:
            self.block()
        if name in self.errors:
            raise KeyVaultFetchError(self.errors[name])

    def get_key(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                name: str, version: str) -> KeyBundle:
        self._enter(vault_url, auth, name, version)
        found, jwk = self._pick(self.keys.get(name, []), name, version)
        return KeyBundle(jwk, found)

    def get_certificate(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                        name: str, version: str) -> CertificateBundle:
        self._enter(vault_url, auth, name, version)
        found, cer = self._pick(self.certificates.get(name, []), name, version)
        return CertificateBundle(cer, found)

    def list_versions(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                      object_type: str, name: str) -> list[VersionItem]:
        self._enter(vault_url, auth, name, "versions")
        return list(self.listings.get((object_type, name), []))

    def get_secret(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                   name: str, version: str) -> SecretBundle:
        self.calls.append((vault_url, auth, name, version))
        if self.block is not None:
            self.block()
        if name in self.errors:
            raise KeyVaultFetchError(self.errors[name])
        versions = self.secrets.get(name)
        if not versions:
            raise KeyVaultFetchError(f"SecretNotFound: A secret with (name/id) {name} was not "
                                     "found in this key vault.")
        chosen = versions[-1][1] if not version else dict(versions).get(version)
        if chosen is None:
            raise KeyVaultFetchError(f"SecretNotFound: version {version} of {name}")
        found_version = version or versions[-1][0]
        content_type, key_id = self.content_types.get(name, (None, None))
        return SecretBundle(chosen, found_version, content_type, key_id)


@pytest.fixture
def fake_vault() -> FakeKeyVault:
    return FakeKeyVault(secrets={"db-password": [("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "s3cr3t!")]})
