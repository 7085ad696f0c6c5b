"""azure-identity credentials for an :class:`~kvcsi.provider.auth.AuthConfig`, cached per identity.

Upstream counterpart: the credential half of ``pkg/auth/auth.go`` (azidentity). Upstream
builds a new credential for every mount; kvcsi keeps one per identity for the life of the
process so tokens are reused until they expire (azure-identity caches them in memory).

* Managed identity: ``ManagedIdentityCredential(client_id=userAssignedIdentityID or None)``.
  The IMDS address is never chosen here: azure-identity reads
  ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` from the process environment (set by whoever starts
  the provider; on a real node it is unset and IMDS is the link-local default).
* Service principal: ``ClientSecretCredential`` against the cloud's authority.
* Workload identity: ``ClientAssertionCredential`` with the pod's service account token.

Retries and timeouts are bounded so a failure surfaces well within a mount's deadline.
Custom clouds (not one of the built-in ones) disable MSAL instance discovery, which would
otherwise ask the public cloud about an unknown authority.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

from azure.core.credentials import TokenCredential
from azure.identity import (
    ClientAssertionCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
)

from kvcsi.provider.auth import (
    KIND_MANAGED_IDENTITY,
    KIND_SERVICE_PRINCIPAL,
    KIND_WORKLOAD_IDENTITY,
    AuthConfig,
)
from kvcsi.provider.clouds import BUILTIN_CLOUDS, CloudEnvironment
from kvcsi.provider.errors import MountError

# IMDS: a few quick retries instead of azure-identity's default ~25 s of back-off.
MANAGED_IDENTITY_SETTINGS: dict[str, Any] = {
    "connection_timeout": 2,
    "read_timeout": 8,
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 2,
}
ENTRA_SETTINGS: dict[str, Any] = {
    "connection_timeout": 5,
    "read_timeout": 10,
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 2,
}
CACHE_SIZE = 256


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def identity_key(auth: AuthConfig, cloud: CloudEnvironment) -> tuple[str, ...]:
    """A hashable key naming one identity; secrets appear only as SHA-256 digests."""
    if auth.kind == KIND_MANAGED_IDENTITY:
        return (auth.kind, auth.client_id)
    authority = cloud.active_directory_endpoint
    if auth.kind == KIND_SERVICE_PRINCIPAL:
        return (auth.kind, authority, auth.tenant_id, auth.client_id, _digest(auth.client_secret))
    return (auth.kind, authority, auth.tenant_id, auth.client_id, _digest(auth.assertion))


def _is_custom_cloud(cloud: CloudEnvironment) -> bool:
    return all(builtin != cloud for builtin in BUILTIN_CLOUDS.values())


def create_credential(auth: AuthConfig, cloud: CloudEnvironment) -> TokenCredential:
    """A new azure-identity credential for ``auth`` in ``cloud``."""
    if auth.kind == KIND_MANAGED_IDENTITY:
        return ManagedIdentityCredential(client_id=auth.client_id or None,
                                         **MANAGED_IDENTITY_SETTINGS)
    entra: dict[str, Any] = dict(ENTRA_SETTINGS)
    if cloud.active_directory_endpoint:
        entra["authority"] = cloud.active_directory_endpoint
    if _is_custom_cloud(cloud):
        entra["disable_instance_discovery"] = True
    if auth.kind == KIND_SERVICE_PRINCIPAL:
        return ClientSecretCredential(auth.tenant_id, auth.client_id, auth.client_secret, **entra)
    if auth.kind == KIND_WORKLOAD_IDENTITY:
        assertion = auth.assertion
        return ClientAssertionCredential(auth.tenant_id, auth.client_id, lambda: assertion,
                                         **entra)
    raise MountError(f"failed to get keyvault client: unknown identity kind {auth.kind}")


class CredentialCache:
    """Process-wide credentials, one per identity (bounded, least recently used evicted)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._credentials: OrderedDict[tuple[str, ...], TokenCredential] = OrderedDict()

    def get(self, auth: AuthConfig, cloud: CloudEnvironment) -> TokenCredential:
        key = identity_key(auth, cloud)
        with self._lock:
            credential = self._credentials.get(key)
            if credential is not None:
                self._credentials.move_to_end(key)
                return credential
        try:
            credential = create_credential(auth, cloud)
        except ValueError as error:
            raise MountError(f"failed to get keyvault client: {error}") from None
        with self._lock:
            self._credentials[key] = credential
            while len(self._credentials) > self._size:
                self._credentials.popitem(last=False)
        return credential
