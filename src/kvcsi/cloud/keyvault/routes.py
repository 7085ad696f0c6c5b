"""The local Key Vault app on ``https://{vault}.vault.localhost:{port}`` (routed by Host).

Each request goes through the same steps as on Key Vault: find the vault by host name, check
``api-version``, authenticate the bearer token (401 + ``WWW-Authenticate`` challenge, which
also answers the SDK's first, bodyless request), count it against the vault's throttle (429),
then the route of its method and path runs, authorizing its operation first (403). Domain
errors become Key Vault bodies through :mod:`kvcsi.cloud.keyvault.errors`; every answer
carries Key Vault's headers (``x-ms-request-id``, echoed ``x-ms-client-request-id``, ...).

Routes come from :mod:`.secret_routes`, :mod:`.key_routes` and, when present,
``kvcsi.cloud.keyvault.certificate_routes.certificate_routes(ctx)``. :func:`route_table`
lists them all (``docs/keyvault-coverage.md`` is checked against it).

The benchmark floor (``KVCSI_KEYVAULT_BENCH_FLOOR=1``) is :mod:`.bench_floor`, installed in
front of this app by :mod:`kvcsi.cloud.app`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from kvcsi.cloud import lookups
from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.identity.resources import keyvault_audiences
from kvcsi.cloud.keyvault.api_versions import check_api_version
from kvcsi.cloud.keyvault.authentication import Authenticator
from kvcsi.cloud.keyvault.authorization import Authorizer
from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import (
    KeyVaultError,
    MethodNotAllowed,
    Throttled,
    Unauthorized,
    UnknownOperation,
    VaultNotFound,
    error_status_and_body,
)
from kvcsi.cloud.keyvault.freshness import StoreWatch, WatchedCache
from kvcsi.cloud.keyvault.key_routes import key_routes
from kvcsi.cloud.keyvault.keys import KeyRepository
from kvcsi.cloud.keyvault.request_facts import header, new_request_id, query
from kvcsi.cloud.keyvault.secret_routes import secret_routes
from kvcsi.cloud.keyvault.secrets import SecretRepository
from kvcsi.cloud.keyvault.throttle import VaultThrottle
from kvcsi.cloud.keyvault.vault_call import JSON_UTF8, SCOPE_KEY, VaultCall

log = logging.getLogger(__name__)
SERVICE_VERSION = "1.9.0.0-kvcsi"
CERTIFICATE_ROUTES_MODULE = "kvcsi.cloud.keyvault.certificate_routes"
INTERNAL_ERROR = {"error": {"code": "InternalServerError",
                            "message": "The local Key Vault failed to process the request."}}
_STATIC_HEADERS = [
    (b"cache-control", b"no-cache"),
    (b"pragma", b"no-cache"),
    (b"expires", b"-1"),
    (b"x-ms-keyvault-service-version", SERVICE_VERSION.encode()),
    (b"x-ms-keyvault-network-info",
     b"conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;"),
    (b"x-content-type-options", b"nosniff"),
    (b"strict-transport-security", b"max-age=31536000;includeSubDomains"),
]


def vault_label(host: str, dns_suffix: str) -> str | None:
    """``myvault`` from ``myvault.vault.localhost:8443`` (None for other hosts)."""
    host = host.lower()
    suffix = "." + dns_suffix.lower()
    hostname_suffix = "." + dns_suffix.lower().rsplit(":", 1)[0]
    for candidate in (suffix, hostname_suffix):
        if host.endswith(candidate):
            label = host[: -len(candidate)]
            return label if label and "." not in label else None
    return None


def certificate_routes(ctx: CloudContext) -> list[Route]:
    """The certificates module's routes, or none while it is not there."""
    try:
        module = importlib.import_module(CERTIFICATE_ROUTES_MODULE)
    except ImportError as error:
        if error.name != CERTIFICATE_ROUTES_MODULE:
            raise
        log.info("%s is not available; no certificate operations", CERTIFICATE_ROUTES_MODULE)
        return []
    return list(module.certificate_routes(ctx))


def route_table(ctx: CloudContext) -> list[Route]:
    """Every route of the local Key Vault, in matching order."""
    cipher = SecretCipher(ctx.home)
    return (secret_routes(SecretRepository(ctx.store, cipher))
            + key_routes(KeyRepository(ctx.store, cipher))
            + certificate_routes(ctx))


class VaultDirectory:
    """Vault documents by host label, cached while ARM documents stay unchanged."""

    def __init__(self, ctx: CloudContext) -> None:
        self.store = ctx.store
        self._vaults: WatchedCache[str, dict[str, Any] | None] = WatchedCache(
            StoreWatch(ctx.store, ["arm", "vault-name"]), 10_000)

    def find(self, label: str) -> dict[str, Any] | None:
        vaults = self._vaults.entries()
        if label not in vaults:
            vaults[label] = lookups.vault_by_name(self.store, label)
        return vaults[label]


class KeyVaultApp:
    """The ASGI app serving every vault of the local cloud."""

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx
        self.routes = route_table(ctx)
        self.vaults = VaultDirectory(ctx)
        self.authenticator = Authenticator(ctx.issuer, keyvault_audiences(ctx.endpoints))
        self.authorizer = Authorizer(ctx.store)
        self.throttle = VaultThrottle(ctx.store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        vault: dict[str, Any] | None = None
        try:
            if self.ctx.keyvault_delay_ms:
                await asyncio.sleep(self.ctx.keyvault_delay_ms / 1000)
            host = header(scope, b"host") or ""
            vault = self._vault(host)
            response = await self._dispatch(request, scope, vault, host)
        except KeyVaultError as error:
            response = self._error(vault, error)
        except Exception as error:  # a bug: answer as Key Vault would, never leak details
            log.error("Key Vault %s %s failed: %s", scope["method"], scope["path"],
                      type(error).__name__)
            response = Response(json.dumps(INTERNAL_ERROR, separators=(",", ":")),
                                status_code=500, media_type=JSON_UTF8)
        self._add_headers(response, vault, scope)
        await response(scope, receive, send)

    def _vault(self, host: str) -> dict[str, Any]:
        label = vault_label(host, self.ctx.endpoints.keyvault_dns_suffix)
        vault = self.vaults.find(label) if label else None
        if vault is None:
            raise VaultNotFound(
                f"No vault answers at '{host}': no Key Vault named '{label or host}' exists "
                "in the local cloud (real Key Vault host names would not resolve).")
        return vault

    async def _dispatch(self, request: Request, scope: Scope, vault: dict[str, Any],
                        host: str) -> Response:
        parameters = query(scope)
        api_version = check_api_version(parameters.get("api-version"))
        caller = self.authenticator.authenticate(header(scope, b"authorization"),
                                                 self._vault_tenant(vault))
        self.throttle.admit(vault["name"])
        method_mismatch = False
        for route in self.routes:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                scope[SCOPE_KEY] = VaultCall(request, vault, caller, "https://" + host.lower(),
                                             api_version, self.authorizer, parameters)
                return await route.endpoint(request)
            method_mismatch = method_mismatch or match is Match.PARTIAL
        if method_mismatch:
            raise MethodNotAllowed(f"The requested resource does not support http method "
                                   f"'{request.method}'.")
        raise UnknownOperation(f"The operation {request.method} {scope['path']} is not "
                               "supported by the local Key Vault.")

    def _vault_tenant(self, vault: dict[str, Any]) -> str:
        return str(vault.get("properties", {}).get("tenantId") or self.ctx.tenant_id)

    def _challenge(self, vault: dict[str, Any]) -> str:
        return (f'Bearer authorization="{self.ctx.endpoints.authority}'
                f'{self._vault_tenant(vault)}", '
                f'resource="{self.ctx.endpoints.keyvault_resource}"')

    def _error(self, vault: dict[str, Any] | None, error: KeyVaultError) -> Response:
        status, body = error_status_and_body(error)
        response = Response(json.dumps(body, separators=(",", ":")), status_code=status,
                            media_type=JSON_UTF8)
        if isinstance(error, Unauthorized) and vault is not None:
            response.headers["WWW-Authenticate"] = self._challenge(vault)
        if isinstance(error, Throttled):
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response

    def _add_headers(self, response: Response, vault: dict[str, Any] | None,
                     scope: Scope) -> None:
        headers = response.raw_headers
        headers.extend(_STATIC_HEADERS)
        headers.append((b"x-ms-request-id", new_request_id().encode()))
        client_request_id = header(scope, b"x-ms-client-request-id")
        if client_request_id:
            headers.append((b"x-ms-client-request-id", client_request_id.encode("latin-1")))
        if vault is not None and vault.get("location"):
            headers.append((b"x-ms-keyvault-region", str(vault["location"]).encode()))
        call = scope.get(SCOPE_KEY)
        if call is not None and call.assignment_id:
            headers.append((b"x-ms-keyvault-rbac-assignment-id",
                            call.assignment_id.encode("latin-1")))


def keyvault_app(ctx: CloudContext) -> KeyVaultApp:
    return KeyVaultApp(ctx)
