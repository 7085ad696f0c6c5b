"""Key Vault access: fetch one secret version through the official ``azure-keyvault-secrets``.

Upstream counterpart: ``pkg/provider/keyvault.go`` (a thin wrapper over azsecrets behind an
interface). The core (:mod:`kvcsi.provider.mount`) depends only on the
:class:`KeyVaultGateway` protocol, so tests inject a fake; :class:`AzureKeyVault` is the real
one. It keeps one ``SecretClient`` per (vault URL, identity) for the life of the process.

Failures raise :class:`KeyVaultFetchError` whose text names the real cause without any
secret or token (see :mod:`kvcsi.provider.azure_errors`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from azure.core.exceptions import AzureError
from azure.keyvault.secrets import SecretClient

from kvcsi.provider.auth import AuthConfig
from kvcsi.provider.azure_errors import describe_azure_error
from kvcsi.provider.clouds import CloudEnvironment
from kvcsi.provider.credentials import CredentialCache, identity_key

# Key Vault data plane: bounded retries so the cause reaches the driver before its deadline.
KEYVAULT_CLIENT_SETTINGS: dict[str, Any] = {
    "connection_timeout": 5,
    "read_timeout": 10,
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 2,
}
CLIENT_CACHE_SIZE = 256


@dataclass(frozen=True)
class SecretBundle:
    """One secret version as Key Vault returned it."""

    value: str = field(repr=False)
    version: str
    content_type: str | None = None
    key_id: str | None = None

    @property
    def certificate_backed(self) -> bool:
        """True when the secret is the addressable secret of a Key Vault certificate."""
        return bool(self.key_id)


class KeyVaultFetchError(Exception):
    """A fetch failed; ``str()`` is a safe description of the cause."""


class KeyVaultGateway(Protocol):
    """What the mount core needs from Key Vault."""

    def get_secret(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                   name: str, version: str) -> SecretBundle:
        """Fetch secret ``name`` (latest when ``version`` is empty)."""
        ...


def version_from_id(secret_id: str) -> str:
    """The version of a Key Vault object id: its last path segment."""
    return secret_id.rstrip("/").rsplit("/", 1)[-1]


class AzureKeyVault:
    """:class:`KeyVaultGateway` over ``SecretClient`` with azure-identity credentials."""

    def __init__(self, credentials: CredentialCache | None = None) -> None:
        self._credentials = credentials or CredentialCache()
        self._lock = threading.Lock()
        self._clients: OrderedDict[tuple[Any, ...], SecretClient] = OrderedDict()

    def _client(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment) -> SecretClient:
        key = (vault_url, identity_key(auth, cloud))
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        credential = self._credentials.get(auth, cloud)
        client = SecretClient(vault_url, credential, **KEYVAULT_CLIENT_SETTINGS)
        with self._lock:
            self._clients[key] = client
            while len(self._clients) > CLIENT_CACHE_SIZE:
                self._clients.popitem(last=False)
        return client

    def get_secret(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                   name: str, version: str) -> SecretBundle:
        client = self._client(vault_url, auth, cloud)
        try:
            secret = client.get_secret(name, version or None)
        except AzureError as error:
            raise KeyVaultFetchError(describe_azure_error(error, vault_url)) from None
        except ValueError as error:
            # e.g. the SDK refusing a challenge whose resource does not match the vault host
            raise KeyVaultFetchError(str(error)) from None
        if secret.value is None:
            raise KeyVaultFetchError("secret value is nil")
        if not secret.id:
            raise KeyVaultFetchError("secret id is nil")
        return SecretBundle(
            value=secret.value,
            version=secret.properties.version or version_from_id(secret.id),
            content_type=secret.properties.content_type,
            key_id=secret.properties.key_id,
        )
