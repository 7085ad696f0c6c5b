"""Key Vault's secrets REST API on ``https://{vault}.vault.localhost:{port}`` (routed by Host).

Each request goes through the same steps as on Key Vault: find the vault by host name, check
``api-version``, authenticate the bearer token (401 + ``WWW-Authenticate`` challenge, which
also answers the SDK's first, bodyless request), authorize the operation (403), then run it.
Domain errors become Key Vault bodies through :mod:`kvcsi.cloud.keyvault.errors`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kvcsi.cloud import lookups
from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.keyvault import bundles
from kvcsi.cloud.keyvault.api_versions import check_api_version
from kvcsi.cloud.keyvault.authorization import (
    GET_SECRET,
    LIST_SECRETS,
    SET_SECRET,
    Caller,
    authenticate,
    authorize,
)
from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import (
    BadParameter,
    KeyVaultError,
    SecretDisabled,
    Unauthorized,
    UnknownOperation,
    VaultNotFound,
    error_status_and_body,
)
from kvcsi.cloud.keyvault.secrets import SecretRepository, SetSecretRequest

log = logging.getLogger(__name__)
JSON_UTF8 = "application/json; charset=utf-8"
DEFAULT_MAX_RESULTS = 25
SERVICE_VERSION = "1.9.0.0-kvcsi"


@dataclass(frozen=True)
class VaultRequest:
    """A request that reached a known vault with a valid api-version."""

    request: Request
    vault: dict[str, Any]
    vault_host: str
    api_version: str

    @property
    def base_url(self) -> str:
        return f"https://{self.vault_host}"


@dataclass
class Outcome:
    body: dict[str, Any]
    assignment_id: str | None = None


def _vault_label(host: str, dns_suffix: str) -> str | None:
    """``myvault`` from ``myvault.vault.localhost:8443`` (None for other hosts)."""
    host = host.lower()
    suffix = "." + dns_suffix.lower()
    hostname_suffix = "." + dns_suffix.lower().rsplit(":", 1)[0]
    for candidate in (suffix, hostname_suffix):
        if host.endswith(candidate):
            label = host[: -len(candidate)]
            return label if label and "." not in label else None
    return None


def _max_results(query: Any) -> int:
    raw = query.get("maxresults")
    if raw is None:
        return DEFAULT_MAX_RESULTS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= DEFAULT_MAX_RESULTS:
        raise BadParameter(f"Invalid value for maxresults: {raw}. The value must be between "
                           f"1 and {DEFAULT_MAX_RESULTS}.")
    return value


def _skip(query: Any) -> int:
    token = query.get("$skiptoken")
    if not token:
        return 0
    try:
        return max(int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))), 0)
    except (ValueError, binascii.Error):
        raise BadParameter("The $skiptoken query parameter has an invalid value.") from None


def _page(items: list[dict[str, Any]], vault_request: VaultRequest, path: str
          ) -> dict[str, Any]:
    query = vault_request.request.query_params
    size, skip = _max_results(query), _skip(query)
    page = items[skip: skip + size]
    next_link = None
    if skip + size < len(items):
        token = base64.urlsafe_b64encode(str(skip + size).encode()).decode().rstrip("=")
        next_link = (f"{vault_request.base_url}{path}?api-version={vault_request.api_version}"
                     f"&$skiptoken={token}&maxresults={size}")
    return {"value": page, "nextLink": next_link}


class KeyVaultApp:
    """The ASGI app serving every vault of the local cloud."""

    def __init__(self, ctx: CloudContext) -> None:
        self.ctx = ctx
        self.secrets = SecretRepository(ctx.store, SecretCipher(ctx.home))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    def _headers(self, request: Request, vault: dict[str, Any] | None) -> dict[str, str]:
        headers = {
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
            "Expires": "-1",
            "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-keyvault-service-version": SERVICE_VERSION,
            "x-ms-keyvault-network-info":
                "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;",
            "X-Content-Type-Options": "nosniff",
            "Strict-Transport-Security": "max-age=31536000;includeSubDomains",
        }
        client_request_id = request.headers.get("x-ms-client-request-id")
        if client_request_id:
            headers["x-ms-client-request-id"] = client_request_id
        if vault is not None and vault.get("location"):
            headers["x-ms-keyvault-region"] = str(vault["location"])
        return headers

    def _challenge(self, vault: dict[str, Any]) -> str:
        tenant_id = self._vault_tenant(vault)
        return (f'Bearer authorization="{self.ctx.endpoints.authority}{tenant_id}", '
                f'resource="{self.ctx.endpoints.keyvault_resource}"')

    def _vault_tenant(self, vault: dict[str, Any]) -> str:
        return str(vault.get("properties", {}).get("tenantId") or self.ctx.tenant_id)

    async def handle(self, request: Request) -> Response:
        vault: dict[str, Any] | None = None
        try:
            if self.ctx.keyvault_delay_ms:
                await asyncio.sleep(self.ctx.keyvault_delay_ms / 1000)
            host = request.headers.get("host", "")
            label = _vault_label(host, self.ctx.endpoints.keyvault_dns_suffix)
            vault = lookups.vault_by_name(self.ctx.store, label) if label else None
            if vault is None:
                raise VaultNotFound(
                    f"No vault answers at '{host}': no Key Vault named '{label or host}' exists "
                    "in the local cloud (real Key Vault host names would not resolve).")
            api_version = check_api_version(request.query_params.get("api-version"))
            caller = authenticate(self.ctx.issuer, self.ctx.endpoints,
                                  request.headers.get("authorization"), self._vault_tenant(vault))
            vault_request = VaultRequest(request, vault, host.lower(), api_version)
            handler = self._route(request.method, request.url.path)
            outcome = await handler(vault_request, caller)
        except KeyVaultError as error:
            return self._error(request, vault, error)
        headers = self._headers(request, vault)
        if outcome.assignment_id:
            headers["x-ms-keyvault-rbac-assignment-id"] = outcome.assignment_id
        return Response(json.dumps(outcome.body, separators=(",", ":")), status_code=200,
                        headers=headers, media_type=JSON_UTF8)

    def _error(self, request: Request, vault: dict[str, Any] | None,
               error: KeyVaultError) -> Response:
        status, body = error_status_and_body(error)
        headers = self._headers(request, vault)
        if isinstance(error, Unauthorized) and vault is not None:
            headers["WWW-Authenticate"] = self._challenge(vault)
        return Response(json.dumps(body, separators=(",", ":")), status_code=status,
                        headers=headers, media_type=JSON_UTF8)

    def _route(self, method: str, path: str
               ) -> Callable[[VaultRequest, Caller], Awaitable[Outcome]]:
        parts = path.split("/")[1:]
        if parts and parts[-1] == "" and len(parts) != 3:
            parts = parts[:-1]
        if parts[:1] != ["secrets"]:
            raise UnknownOperation(f"The operation {method} {path} is not supported by the "
                                   "local Key Vault.")
        if len(parts) == 1 and method == "GET":
            return self._list_secrets
        if len(parts) == 2 and method == "PUT":
            return lambda vr, caller: self._set_secret(vr, caller, parts[1])
        if len(parts) == 2 and method == "GET":
            return lambda vr, caller: self._get_secret(vr, caller, parts[1], None)
        if len(parts) == 3 and method == "GET" and parts[2] == "versions":
            return lambda vr, caller: self._list_versions(vr, caller, parts[1])
        if len(parts) == 3 and method == "GET":
            return lambda vr, caller: self._get_secret(vr, caller, parts[1], parts[2] or None)
        raise UnknownOperation(f"The operation {method} {path} is not supported by the local "
                               "Key Vault.")

    async def _set_secret(self, vr: VaultRequest, caller: Caller, name: str) -> Outcome:
        assignment = authorize(self.ctx.store, vr.vault, caller, SET_SECRET, name)
        raw = await vr.request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            raise BadParameter("The request body is not valid JSON.") from None
        secret = self.secrets.set(vr.vault["name"], name, SetSecretRequest.parse(body))
        value = self.secrets.reveal(secret)
        return Outcome(bundles.secret_bundle(secret, value, vr.base_url), assignment)

    async def _get_secret(self, vr: VaultRequest, caller: Caller, name: str,
                          version: str | None) -> Outcome:
        assignment = authorize(self.ctx.store, vr.vault, caller, GET_SECRET, name)
        secret = self.secrets.get(vr.vault["name"], name, version)
        if not secret.enabled:
            raise SecretDisabled("Operation get is not allowed on a disabled secret.")
        value = self.secrets.reveal(secret)
        return Outcome(bundles.secret_bundle(secret, value, vr.base_url), assignment)

    async def _list_versions(self, vr: VaultRequest, caller: Caller, name: str) -> Outcome:
        assignment = authorize(self.ctx.store, vr.vault, caller, LIST_SECRETS, name)
        versions = self.secrets.versions(vr.vault["name"], name)
        items = [bundles.secret_item(v, vr.base_url, with_version=True) for v in versions]
        return Outcome(_page(items, vr, f"/secrets/{name}/versions"), assignment)

    async def _list_secrets(self, vr: VaultRequest, caller: Caller) -> Outcome:
        assignment = authorize(self.ctx.store, vr.vault, caller, LIST_SECRETS)
        latest = self.secrets.latest_of_each(vr.vault["name"])
        items = [bundles.secret_item(s, vr.base_url, with_version=False) for s in latest]
        return Outcome(_page(items, vr, "/secrets"), assignment)


def keyvault_app(ctx: CloudContext) -> KeyVaultApp:
    return KeyVaultApp(ctx)
