"""Key Vault access through the official ``azure-keyvault-secrets`` / ``-keys`` / ``-certificates``.

Upstream counterpart: ``pkg/provider/keyvault.go`` (a thin wrapper over azsecrets, azkeys and
azcertificates behind an interface). The core (:mod:`kvcsi.provider.mount`) depends only on
the :class:`KeyVaultGateway` protocol, so tests inject a fake; :class:`AzureKeyVault` is the
real one.

Unlike upstream (new credential and clients for every mount), :class:`AzureKeyVault` keeps, per
(vault URL, identity), one set of the three SDK clients sharing one HTTP session whose
connection pool is as large as a mount's fetch concurrency, and one token cache per identity
(:class:`~kvcsi.provider.credentials.CredentialCache`). A mount's objects are fetched from
several threads at once. Without a proxy in the environment the clients are the SDK's async
ones (:mod:`~kvcsi.provider.keyvault_async`) and every request runs on one event loop
(:mod:`~kvcsi.provider.fetch_loop`): the fetch threads only hand requests over and wait,
which costs about a third less CPU per object than a thread per request.
With a proxy, or with ``KVCSI_PROVIDER_SYNC_CLIENTS=1``, they are the synchronous clients.

Failures raise :class:`KeyVaultFetchError` whose text names the real cause without any
secret or token (see :mod:`kvcsi.provider.azure_errors`).
"""

from __future__ import annotations

import inspect
import os
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import requests
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from urllib3.util.retry import Retry

from kvcsi.provider.auth import AuthConfig
from kvcsi.provider.authority_errors import entra_answer
from kvcsi.provider.azure_errors import describe_azure_error
from kvcsi.provider.clouds import CloudEnvironment
from kvcsi.provider.credentials import CredentialCache, identity_key
from kvcsi.provider.fetch_loop import FetchLoop, shared_fetch_loop
from kvcsi.provider.formats import JsonWebKey
from kvcsi.provider.http_session import LeanSession

try:
    from kvcsi.provider import keyvault_async
except ImportError:  # pragma: no cover - aiohttp comes with the kubernetes client
    keyvault_async = None  # type: ignore[assignment]

OBJECT_SECRET = "secret"
OBJECT_KEY = "key"
OBJECT_CERT = "cert"

# Key Vault data plane: bounded retries so the cause reaches the driver before its deadline.
KEYVAULT_CLIENT_SETTINGS: dict[str, Any] = {
    "retry_total": 2,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 2,
}
CONNECTION_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 10
CONNECTION_POOL_SIZE = 64
CLIENT_CACHE_SIZE = 256
SYNC_CLIENTS_ENV = "KVCSI_PROVIDER_SYNC_CLIENTS"


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


@dataclass(frozen=True)
class KeyBundle:
    """One key version: its public JSON Web Key and version."""

    key: JsonWebKey
    version: str


@dataclass(frozen=True)
class CertificateBundle:
    """One certificate version: the DER ``cer`` and version."""

    cer: bytes
    version: str


@dataclass(frozen=True)
class VersionItem:
    """One entry of a versions listing (``created`` in seconds since the epoch)."""

    version: str
    enabled: bool | None
    created: float | None


class KeyVaultFetchError(Exception):
    """A fetch failed; ``str()`` is a safe description of the cause."""


class KeyVaultGateway(Protocol):
    """What the mount core needs from Key Vault (empty ``version`` = latest)."""

    def get_secret(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                   name: str, version: str) -> SecretBundle: ...

    def get_key(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                name: str, version: str) -> KeyBundle: ...

    def get_certificate(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                        name: str, version: str) -> CertificateBundle: ...

    def list_versions(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                      object_type: str, name: str) -> list[VersionItem]: ...


def version_from_id(object_id: str) -> str:
    """The version of a Key Vault object id: its last path segment."""
    return object_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class VaultClients:
    """The three SDK clients of one (vault, identity), sharing one connection pool."""

    secrets: SecretClient
    keys: KeyClient
    certificates: CertificateClient


CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _ca_bundle() -> str | bool:
    """``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` if set (as requests reads them), else True."""
    return next((os.environ[name] for name in CA_BUNDLE_VARIABLES if os.environ.get(name)),
                True)


def _use_async_clients() -> bool:
    """The async clients unless a proxy is configured or the sync ones are asked for."""
    return (keyvault_async is not None and os.environ.get(SYNC_CLIENTS_ENV, "") != "1"
            and not urllib.request.getproxies())


def _session() -> tuple[requests.Session | LeanSession, str | bool]:
    """One pooled HTTP session for a (vault, identity), and the TLS verification to use.

    Without a proxy in the environment the session is a :class:`LeanSession` (one urllib3
    pool, no per-request environment lookups; the CA bundle from ``REQUESTS_CA_BUNDLE`` /
    ``CURL_CA_BUNDLE`` read once, as requests would). With a proxy it is a plain
    ``requests.Session``, so proxies and ``NO_PROXY`` keep working exactly as in requests.
    """
    if not urllib.request.getproxies():
        verify = _ca_bundle()
        return LeanSession(verify, CONNECTION_POOL_SIZE), verify
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4, pool_maxsize=CONNECTION_POOL_SIZE,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, True


T = TypeVar("T")


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _version_items(items: Iterable[Any]) -> list[VersionItem]:
    return [VersionItem(item.version or version_from_id(item.id or ""), item.enabled,
                        _epoch(item.created_on)) for item in items]


def _async_closer(clients: OrderedDict[tuple[Any, ...], Any]) -> Callable[[], Any]:
    """A cleanup closing the async clients' sessions still cached (at interpreter exit)."""
    async def close() -> None:
        for cached in list(clients.values()):
            if keyvault_async is not None and isinstance(
                    cached, keyvault_async.AsyncVaultClients):
                await cached.close()
    return close


async def _collect(items: Any) -> list[VersionItem]:
    """An async pager's items as :class:`VersionItem` (runs on the fetch loop)."""
    return _version_items([item async for item in items])


class AzureKeyVault:
    """:class:`KeyVaultGateway` over the Azure SDK clients with azure-identity credentials."""

    def __init__(self, credentials: CredentialCache | None = None,
                 loop: FetchLoop | None = None) -> None:
        self._credentials = credentials or CredentialCache()
        self._loop = loop or shared_fetch_loop()
        self._lock = threading.Lock()
        self._clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._closes_at_exit = False

    def _vault(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment) -> VaultClients:
        """The clients of (vault, identity): :class:`VaultClients`, or the async
        :class:`~kvcsi.provider.keyvault_async.AsyncVaultClients` (same attributes)."""
        key = (vault_url, identity_key(auth, cloud))
        with self._lock:
            clients = self._clients.get(key)
            if clients is not None:
                self._clients.move_to_end(key)
                return clients  # type: ignore[no-any-return]
            credential = self._credentials.get(auth, cloud)
            if _use_async_clients():
                clients = self._loop.run(keyvault_async.build_async_clients(
                    vault_url, credential, _ca_bundle(), CONNECTION_POOL_SIZE,
                    {**KEYVAULT_CLIENT_SETTINGS, "connection_timeout": CONNECTION_TIMEOUT_SECONDS,
                     "read_timeout": READ_TIMEOUT_SECONDS}))
                self._remember(key, clients)
                if not self._closes_at_exit:
                    self._closes_at_exit = True
                    self._loop.on_exit(_async_closer(self._clients))
                return clients  # type: ignore[no-any-return]
            session, verify = _session()

            def transport() -> RequestsTransport:
                return RequestsTransport(session=session,  # type: ignore[arg-type]
                                         session_owner=False,
                                         connection_verify=verify,
                                         connection_timeout=CONNECTION_TIMEOUT_SECONDS,
                                         read_timeout=READ_TIMEOUT_SECONDS)

            clients = VaultClients(
                SecretClient(vault_url, credential, transport=transport(),
                             **KEYVAULT_CLIENT_SETTINGS),
                KeyClient(vault_url, credential, transport=transport(),
                          **KEYVAULT_CLIENT_SETTINGS),
                CertificateClient(vault_url, credential, transport=transport(),
                                  **KEYVAULT_CLIENT_SETTINGS))
            self._remember(key, clients)
            return clients

    def _remember(self, key: tuple[Any, ...], clients: Any) -> None:
        """Cache ``clients`` (lock held), dropping the least recently used beyond the limit."""
        self._clients[key] = clients
        while len(self._clients) > CLIENT_CACHE_SIZE:
            _, evicted = self._clients.popitem(last=False)
            if keyvault_async is not None and isinstance(
                    evicted, keyvault_async.AsyncVaultClients):
                self._loop.submit(evicted.close())

    def _call(self, vault_url: str, operation: Callable[[], Any]) -> Any:
        """Run an SDK call (an async client's coroutine on the fetch loop); map failures."""
        try:
            result = operation()
            if inspect.iscoroutine(result):
                result = self._loop.run(result)
            return result
        except AzureError as error:
            description = None
            if keyvault_async is not None:
                description = keyvault_async.describe_aiohttp_failure(error, vault_url)
            description = description or describe_azure_error(error, vault_url)
            if isinstance(error, ClientAuthenticationError):
                answer = entra_answer(description)
                if answer:
                    description = f"{description.rstrip()} Entra answered: {answer}"
            raise KeyVaultFetchError(description) from None
        except ValueError as error:
            # e.g. the SDK refusing a challenge whose resource does not match the vault host
            raise KeyVaultFetchError(str(error)) from None

    def get_secret(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                   name: str, version: str) -> SecretBundle:
        client = self._vault(vault_url, auth, cloud).secrets
        secret = self._call(vault_url, lambda: client.get_secret(name, version or None))
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

    def get_key(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                name: str, version: str) -> KeyBundle:
        client = self._vault(vault_url, auth, cloud).keys
        key = self._call(vault_url, lambda: client.get_key(name, version or None))
        jwk = key.key
        if jwk is None:
            raise KeyVaultFetchError("key value is nil")
        if not jwk.kid:
            raise KeyVaultFetchError("key id is nil")
        kty = jwk.kty.value if hasattr(jwk.kty, "value") else str(jwk.kty or "")
        crv = jwk.crv.value if hasattr(jwk.crv, "value") else jwk.crv
        return KeyBundle(JsonWebKey(kty=kty, n=jwk.n, e=jwk.e, crv=crv, x=jwk.x, y=jwk.y),
                         version_from_id(jwk.kid))

    def get_certificate(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                        name: str, version: str) -> CertificateBundle:
        client = self._vault(vault_url, auth, cloud).certificates
        if version:
            certificate = self._call(
                vault_url, lambda: client.get_certificate_version(name, version))
        else:
            certificate = self._call(vault_url, lambda: client.get_certificate(name))
        if certificate.cer is None:
            raise KeyVaultFetchError("certificate value is nil")
        if not certificate.id:
            raise KeyVaultFetchError("certificate id is nil")
        return CertificateBundle(bytes(certificate.cer), version_from_id(certificate.id))

    def list_versions(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                      object_type: str, name: str) -> list[VersionItem]:
        clients = self._vault(vault_url, auth, cloud)

        def listing() -> list[VersionItem]:
            items: Iterable[Any]
            if object_type == OBJECT_KEY:
                items = clients.keys.list_properties_of_key_versions(name)
            elif object_type == OBJECT_CERT:
                items = clients.certificates.list_properties_of_certificate_versions(name)
            else:
                items = clients.secrets.list_properties_of_secret_versions(name)
            if hasattr(items, "__aiter__"):
                return _collect(items)  # type: ignore[return-value]
            return _version_items(items)

        return self._call(vault_url, listing)  # type: ignore[no-any-return]


class MeteredKeyVault:
    """A :class:`KeyVaultGateway` that records one ``keyvault_request`` sample per call."""

    def __init__(self, inner: KeyVaultGateway,
                 observe: Callable[[str, str, str, float], None]) -> None:
        self._inner = inner
        self._observe = observe

    def _timed(self, object_type: str, name: str, call: Callable[[], T]) -> T:
        start = time.monotonic()
        error = ""
        try:
            return call()
        except KeyVaultFetchError as failure:
            error = str(failure)
            raise
        finally:
            self._observe(object_type, name, error, time.monotonic() - start)

    def get_secret(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                   name: str, version: str) -> SecretBundle:
        return self._timed(OBJECT_SECRET, name, lambda: self._inner.get_secret(
            vault_url, auth, cloud, name, version))

    def get_key(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                name: str, version: str) -> KeyBundle:
        return self._timed(OBJECT_KEY, name, lambda: self._inner.get_key(
            vault_url, auth, cloud, name, version))

    def get_certificate(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                        name: str, version: str) -> CertificateBundle:
        return self._timed(OBJECT_CERT, name, lambda: self._inner.get_certificate(
            vault_url, auth, cloud, name, version))

    def list_versions(self, vault_url: str, auth: AuthConfig, cloud: CloudEnvironment,
                      object_type: str, name: str) -> list[VersionItem]:
        return self._timed(object_type, name, lambda: self._inner.list_versions(
            vault_url, auth, cloud, object_type, name))
