"""The Entra-like token service (``https://localhost:{port}/``): client credentials, OIDC, JWKS.

Counterpart of ``login.microsoftonline.com``: ``POST /{tenant}/oauth2/v2.0/token`` (and the
v1 ``/{tenant}/oauth2/token``) with ``grant_type=client_credentials`` and either a client secret
checked against the application's ``app-secret`` document or a client assertion checked
against the client's federated identity credentials (:mod:`client_assertions`); OpenID
discovery documents, the
signing keys, and instance discovery. MSAL (azure-identity's ``ClientSecretCredential`` with
``disable_instance_discovery=True``) talks to it unmodified. Errors use Entra's JSON shape
and AADSTS codes (see :mod:`kvcsi.cloud.identity.errors`).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kvcsi.cloud import lookups
from kvcsi.cloud.arm import app_secrets
from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.identity import errors
from kvcsi.cloud.identity.client_assertions import JWT_BEARER, verify_client_assertion
from kvcsi.cloud.identity.issuer_keys import IssuerKeys
from kvcsi.cloud.identity.resources import is_known_resource, resource_from_scopes
from kvcsi.cloud.identity.tokens import (
    APPIDACR_CLIENT_ASSERTION,
    APPIDACR_CLIENT_SECRET,
    CLIENT_CREDENTIALS_LIFETIME,
)

GENERIC_TENANTS = frozenset({"common", "organizations", "consumers"})
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _require_tenant(ctx: CloudContext, tenant: str) -> str:
    document = lookups.tenant(ctx.store, tenant)
    if document is None:
        raise errors.unknown_tenant(tenant)
    return document["tenantId"]


def _client_credentials_token(ctx: CloudContext, tenant: str, form: dict[str, str],
                              resource: str | None, scope: str | None) -> tuple[str, int, str]:
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise errors.missing_parameter("grant_type")
    if grant_type != "client_credentials":
        raise errors.unsupported_grant_type(grant_type)
    tenant_id = _require_tenant(ctx, tenant)
    client_id = form.get("client_id", "")
    if not client_id:
        raise errors.missing_parameter("client_id")
    if resource is None:
        if scope is None:
            raise errors.missing_parameter("scope")
        resource = resource_from_scopes(scope)
        if resource is None:
            raise errors.invalid_scope(scope)
    principal = lookups.principal_by_app_id(ctx.store, client_id)
    if principal is None or principal.get("tenantId", tenant_id) != tenant_id:
        raise errors.unknown_application(client_id, tenant)
    if "client_assertion" in form:
        _check_client_assertion(ctx, principal, form)
        appidacr = APPIDACR_CLIENT_ASSERTION
    else:
        client_secret = form.get("client_secret")
        if not client_secret:
            raise errors.missing_parameter("client_assertion' or 'client_secret")
        if not (app_secrets.verify_client_secret(ctx.store, client_id, client_secret)
                or app_secrets.verify_client_secret(ctx.store, client_id.lower(),
                                                    client_secret)):
            raise errors.invalid_client_secret(client_id)
        appidacr = APPIDACR_CLIENT_SECRET
    if not is_known_resource(resource, ctx.endpoints):
        raise errors.unknown_resource(resource, tenant_id)
    token, expires_on = ctx.issuer.issue(principal, resource, tenant_id,
                                         lifetime_seconds=CLIENT_CREDENTIALS_LIFETIME,
                                         appidacr=appidacr)
    return token, expires_on, resource


def _check_client_assertion(ctx: CloudContext, principal: dict[str, Any],
                            form: dict[str, str]) -> None:
    assertion_type = form.get("client_assertion_type", "")
    if not assertion_type:
        raise errors.missing_parameter("client_assertion_type")
    if assertion_type != JWT_BEARER:
        raise errors.unsupported_assertion_type(assertion_type)
    issuer_keys = IssuerKeys(ctx.store, ctx.endpoints.authority, ctx.tls.ca_cert)
    verify_client_assertion(form["client_assertion"],
                            lookups.federated_credentials(ctx.store, principal), issuer_keys)


async def _form(request: Request) -> dict[str, str]:
    """The ``application/x-www-form-urlencoded`` body (first value of each field)."""
    body = (await request.body()).decode("utf-8", "replace")
    form: dict[str, str] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        form.setdefault(key, value)
    return form


def token_v2(ctx: CloudContext):
    async def endpoint(request: Request) -> Response:
        form = await _form(request)
        try:
            token, expires_on, _ = await run_in_threadpool(
                _client_credentials_token, ctx, request.path_params["tenant"], form, None,
                form.get("scope"))
        except errors.EntraError as error:
            return errors.entra_error_response(error, request.headers.get("client-request-id"))
        expires_in = max(expires_on - int(time.time()), 0)
        return JSONResponse({"token_type": "Bearer", "expires_in": expires_in,
                             "ext_expires_in": expires_in, "access_token": token},
                            headers=NO_STORE)
    return endpoint


def token_v1(ctx: CloudContext):
    async def endpoint(request: Request) -> Response:
        form = await _form(request)
        resource = form.get("resource")
        try:
            if resource is None:
                raise errors.missing_parameter("resource")
            token, expires_on, resource = await run_in_threadpool(
                _client_credentials_token, ctx, request.path_params["tenant"], form, resource,
                None)
        except errors.EntraError as error:
            return errors.entra_error_response(error, request.headers.get("client-request-id"))
        lifetime = str(max(expires_on - int(time.time()), 0))
        return JSONResponse({"token_type": "Bearer", "expires_in": lifetime,
                             "ext_expires_in": lifetime, "expires_on": str(expires_on),
                             "not_before": str(expires_on - CLIENT_CREDENTIALS_LIFETIME),
                             "resource": resource, "access_token": token}, headers=NO_STORE)
    return endpoint


def openid_configuration(ctx: CloudContext, tenant_id: str) -> dict[str, Any]:
    base = f"{ctx.endpoints.authority}{tenant_id}"
    host = urlsplit(ctx.endpoints.authority).netloc
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{ctx.endpoints.graph}oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "NA",
        "cloud_instance_name": host,
        "cloud_graph_host_name": urlsplit(ctx.endpoints.graph).netloc,
        "msgraph_host": urlsplit(ctx.endpoints.graph).netloc,
        "rbac_url": ctx.endpoints.resource_manager.rstrip("/"),
    }


def discovery(ctx: CloudContext):
    async def endpoint(request: Request) -> Response:
        tenant = request.path_params["tenant"]
        try:
            tenant_id = tenant if tenant in GENERIC_TENANTS else _require_tenant(ctx, tenant)
        except errors.EntraError as error:
            return errors.entra_error_response(error)
        return JSONResponse(openid_configuration(ctx, tenant_id))
    return endpoint


def keys(ctx: CloudContext):
    async def endpoint(request: Request) -> Response:
        tenant = request.path_params.get("tenant", "common")
        if tenant not in GENERIC_TENANTS:
            try:
                _require_tenant(ctx, tenant)
            except errors.EntraError as error:
                return errors.entra_error_response(error)
        return JSONResponse(ctx.issuer.jwks())
    return endpoint


def instance_discovery(ctx: CloudContext):
    async def endpoint(request: Request) -> Response:
        authorize = request.query_params.get("authorization_endpoint", "")
        parts = [part for part in urlsplit(authorize).path.split("/") if part]
        tenant = parts[0] if parts else "common"
        host = urlsplit(ctx.endpoints.authority).netloc
        return JSONResponse({
            "tenant_discovery_endpoint":
                f"{ctx.endpoints.authority}{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host,
                          "aliases": [host]}],
        })
    return endpoint


def entra_app(ctx: CloudContext) -> Starlette:
    return Starlette(routes=[
        Route("/common/discovery/instance", instance_discovery(ctx), methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", token_v2(ctx), methods=["POST"]),
        Route("/{tenant}/oauth2/token", token_v1(ctx), methods=["POST"]),
        Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery(ctx),
              methods=["GET"]),
        Route("/{tenant}/.well-known/openid-configuration", discovery(ctx), methods=["GET"]),
        Route("/{tenant}/discovery/v2.0/keys", keys(ctx), methods=["GET"]),
        Route("/{tenant}/discovery/keys", keys(ctx), methods=["GET"]),
    ])
