"""The SDK's asynchronous Key Vault clients for one (vault, identity), on the fetch loop.

Used by :class:`~kvcsi.provider.keyvault.AzureKeyVault` when no proxy is configured (with a
proxy it keeps the synchronous clients, whose ``requests`` session honours ``NO_PROXY``
exactly). The clients are the official ``azure.keyvault.{secrets,keys,certificates}.aio``
ones over azure-core's ``AioHttpTransport``; what is tuned is only how they are built:

* the three clients share one ``aiohttp`` session whose connection pool is as large as a
  mount's fetch concurrency, with one TLS context built once from the CA bundle (the
  transport would otherwise build one per request when given a CA file);
* the credential is the identity's synchronous
  :class:`~kvcsi.provider.credentials.CachedTokenCredential` behind
  :class:`AsyncCredentialAdapter`; a token request (rare: one per token lifetime) runs in a
  worker thread so it never blocks the loop.

:func:`describe_aiohttp_failure` words a connection failure as the synchronous path does
(``failed to connect to <host>: <reason>``), so a failing mount says the same either way.
"""

from __future__ import annotations

import asyncio
import errno
import re
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from azure.core.credentials import AccessToken
from azure.core.exceptions import AzureError
from azure.core.pipeline.transport import AioHttpTransport
from azure.keyvault.certificates.aio import CertificateClient
from azure.keyvault.keys.aio import KeyClient
from azure.keyvault.secrets.aio import SecretClient

from kvcsi.provider.azure_errors import redact
from kvcsi.provider.credentials import CachedTokenCredential
from kvcsi.provider.http_session import DEFAULT_CA_BUNDLE

_VERIFY_DETAIL = re.compile(r"certificate verify failed: ([^(\)\"']+)")


class AsyncCredentialAdapter:
    """An ``AsyncTokenCredential`` over a synchronous (cached) credential."""

    def __init__(self, credential: CachedTokenCredential) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, claims: str | None = None,
                        tenant_id: str | None = None, enable_cae: bool = False,
                        **kwargs: Any) -> AccessToken:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self._credential.get_token(
            *scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs))

    async def close(self) -> None:
        """The synchronous credential is shared and closed by its cache, not here."""

    async def __aenter__(self) -> AsyncCredentialAdapter:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None


@dataclass
class AsyncVaultClients:
    """The three async SDK clients of one (vault, identity) and their shared session."""

    secrets: SecretClient
    keys: KeyClient
    certificates: CertificateClient
    session: aiohttp.ClientSession

    async def close(self) -> None:
        await self.session.close()


def tls_context(verify: str | bool) -> ssl.SSLContext | bool:
    """The TLS context for a CA bundle path (``True``: certifi's, as requests would use)."""
    if verify is False:
        return False
    cafile = verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE
    return ssl.create_default_context(cafile=cafile)


async def build_async_clients(vault_url: str, credential: CachedTokenCredential,
                              verify: str | bool, pool_size: int,
                              settings: dict[str, Any]) -> AsyncVaultClients:
    """Build the clients on the running loop (aiohttp sessions belong to one loop)."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
        limit=pool_size, ssl=tls_context(verify)))
    adapter = AsyncCredentialAdapter(credential)

    def transport() -> AioHttpTransport:
        return AioHttpTransport(session=session, session_owner=False,
                                connection_timeout=settings["connection_timeout"],
                                read_timeout=settings["read_timeout"])

    client_settings = {k: v for k, v in settings.items()
                       if k not in ("connection_timeout", "read_timeout")}
    return AsyncVaultClients(
        SecretClient(vault_url, adapter, transport=transport(), **client_settings),
        KeyClient(vault_url, adapter, transport=transport(), **client_settings),
        CertificateClient(vault_url, adapter, transport=transport(), **client_settings),
        session)


def _connection_reason(inner: BaseException) -> str:
    if isinstance(inner, aiohttp.ClientConnectorCertificateError):
        detail = _VERIFY_DETAIL.search(str(inner.certificate_error))
        return "TLS certificate verification failed" + (
            f": {detail.group(1).strip()}" if detail else "")
    dns_error = getattr(aiohttp, "ClientConnectorDNSError", None)
    if dns_error is not None and isinstance(inner, dns_error):
        return f"failed to resolve host {inner.host}: name or service not known"
    if isinstance(inner, aiohttp.ClientConnectorError):
        if inner.os_error.errno == errno.ECONNREFUSED:
            return "connection refused"
        return str(inner.os_error)
    if isinstance(inner, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "timed out"
    return str(inner) or type(inner).__name__


def describe_aiohttp_failure(error: AzureError, url: str) -> str | None:
    """``failed to connect to <host>: <reason>`` for an aiohttp connection failure, else None."""
    inner = getattr(error, "inner_exception", None) or error.__cause__
    if not isinstance(inner, (aiohttp.ClientError, asyncio.TimeoutError)):
        return None
    if isinstance(inner, aiohttp.ClientResponseError):
        return None
    host = urlsplit(url).netloc
    target = f" {host}" if host else ""
    return redact(f"failed to connect to{target}: {_connection_reason(inner)}")
