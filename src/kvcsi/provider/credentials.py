"""azure-identity credentials for an :class:`~kvcsi.provider.auth.AuthConfig`, cached per identity.

Upstream counterpart: the credential half of ``pkg/auth/auth.go`` (azidentity). Upstream
builds a new credential for every mount, so every mount (and every rotation poll) asks IMDS or
Entra for a token. kvcsi keeps one credential per identity for the life of the process, wrapped
in :class:`CachedTokenCredential`: one token per (scopes, tenant), shared by every client and
thread, requested once and again only ``REFRESH_MARGIN_SECONDS`` before it expires.

Identity keys: managed identity = its client id; service principal = authority, tenant, client
id and a digest of the secret; workload identity = authority, tenant, client id and the
service account (the token's ``sub``), never the short-lived token itself, so a new service
account token per mount does not cost a new Entra token. The latest assertion is what the
credential presents when it does need a token.

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

import base64
import binascii
import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential
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
REFRESH_MARGIN_SECONDS = 300


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def identity_key(auth: AuthConfig, cloud: CloudEnvironment) -> tuple[str, ...]:
    """A hashable key naming one identity; secrets appear only as SHA-256 digests."""
    if auth.kind == KIND_MANAGED_IDENTITY:
        return (auth.kind, auth.client_id)
    authority = cloud.active_directory_endpoint
    if auth.kind == KIND_SERVICE_PRINCIPAL:
        return (auth.kind, authority, auth.tenant_id, auth.client_id, _digest(auth.client_secret))
    return (auth.kind, authority, auth.tenant_id, auth.client_id,
            service_account_subject(auth.assertion))


def service_account_subject(assertion: str) -> str:
    """The ``sub`` of a service account token (unverified; Entra verifies it), else a digest."""
    try:
        payload = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        subject = claims.get("sub") if isinstance(claims, dict) else None
    except (IndexError, ValueError, binascii.Error):
        subject = None
    return subject if isinstance(subject, str) and subject else _digest(assertion)


class AssertionHolder:
    """The newest service account token of one workload identity (what Entra is shown)."""

    def __init__(self, assertion: str) -> None:
        self._assertion = assertion

    def update(self, assertion: str) -> None:
        self._assertion = assertion

    def __call__(self) -> str:
        return self._assertion


class CachedTokenCredential:
    """A :class:`TokenCredential` that reuses one token per (scopes, tenant) until near expiry.

    Concurrent callers wait for the one request in flight instead of sending their own. A
    request with ``claims`` (a CAE challenge) always goes to the inner credential.

    The tenant named by a Key Vault challenge (``tenant_id``) is not passed on: the token
    always comes from the tenant the SecretProviderClass names, as with upstream, so a wrong
    ``tenantID`` surfaces as Entra's own error (``AADSTS90002``, ``AADSTS700016``) and a vault
    in another tenant as Key Vault's ``401 AKV10032``, rather than as azure-identity's
    "not configured to acquire tokens for tenant" refusal.
    """

    def __init__(self, inner: TokenCredential, clock: Any = time.time) -> None:
        self._inner = inner
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[Any, ...], AccessToken] = {}
        self.requests = 0

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        if claims:
            return self._inner.get_token(*scopes, claims=claims, enable_cae=enable_cae,
                                         **kwargs)
        key = (scopes, enable_cae)
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires_on - self._clock() < REFRESH_MARGIN_SECONDS:
                self.requests += 1
                token = self._inner.get_token(*scopes, enable_cae=enable_cae, **kwargs)
                self._tokens[key] = token
            return token

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def _is_custom_cloud(cloud: CloudEnvironment) -> bool:
    return all(builtin != cloud for builtin in BUILTIN_CLOUDS.values())


def create_credential(auth: AuthConfig, cloud: CloudEnvironment,
                      assertion: AssertionHolder | None = None) -> TokenCredential:
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
        holder = assertion or AssertionHolder(auth.assertion)
        return ClientAssertionCredential(auth.tenant_id, auth.client_id, holder, **entra)
    raise MountError(f"failed to get keyvault client: unknown identity kind {auth.kind}")


class CredentialCache:
    """Process-wide credentials, one per identity (bounded, least recently used evicted)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._credentials: OrderedDict[tuple[str, ...], CachedTokenCredential] = OrderedDict()
        self._assertions: dict[tuple[str, ...], AssertionHolder] = {}

    def get(self, auth: AuthConfig, cloud: CloudEnvironment) -> CachedTokenCredential:
        key = identity_key(auth, cloud)
        with self._lock:
            credential = self._credentials.get(key)
            if credential is not None:
                self._credentials.move_to_end(key)
                if auth.kind == KIND_WORKLOAD_IDENTITY:
                    self._assertions[key].update(auth.assertion)
                return credential
            holder = AssertionHolder(auth.assertion)
            try:
                credential = CachedTokenCredential(create_credential(auth, cloud, holder))
            except ValueError as error:
                raise MountError(f"failed to get keyvault client: {error}") from None
            self._credentials[key] = credential
            self._assertions[key] = holder
            while len(self._credentials) > self._size:
                evicted, _ = self._credentials.popitem(last=False)
                self._assertions.pop(evicted, None)
            return credential

    def token_requests(self) -> int:
        """Token requests sent to IMDS or Entra so far (all identities)."""
        with self._lock:
            return sum(credential.requests for credential in self._credentials.values())
