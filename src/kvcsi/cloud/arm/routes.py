"""HTTP front of the management plane: ``arm_app(ctx)`` (``management.localhost``) and
``graph_app(ctx)`` (``graph.localhost``), Starlette apps over :mod:`arm_api` and
:mod:`graph_api`.

``ctx`` is the cloud's context (``kvcsi.cloud.context.CloudContext``): ``ctx.store``,
``ctx.endpoints`` (endpoints.json fields by item access) and either
``ctx.authenticate(request) -> claims`` (raising on a bad token; an :class:`ArmError` chooses
the error body) or ``ctx.issuer.validate(token, audiences) -> claims`` (the token service;
its ``TokenValidationError.reason`` picks ARM's 401 code). ARM accepts tokens for
``resource_manager`` with or without the ``/``, Graph for ``graph``. The caller is
``claims["oid"]`` (plus ``claims["groups"]``). Requests run in a worker thread because the
store is synchronous.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kvcsi.cloud.arm import errors, federated_credentials, graph_api, graph_applications
from kvcsi.cloud.arm.arm_api import ArmRequest, Dispatcher
from kvcsi.cloud.store import CloudStore

log = logging.getLogger(__name__)
METHODS = ["GET", "PUT", "PATCH", "DELETE", "POST", "HEAD"]


class CloudContext(Protocol):
    """What the apps need of the cloud's context (see the module docstring)."""

    store: CloudStore
    endpoints: Any


def _headers() -> dict[str, str]:
    request_id = str(uuid.uuid4())
    return {"x-ms-request-id": request_id, "x-ms-correlation-request-id": request_id}


def _respond(status: int, body: Any) -> Response:
    if body is None:
        return Response(status_code=status, headers=_headers())
    return JSONResponse(body, status_code=status, headers=_headers())


def _error(error: errors.ArmError) -> Response:
    return _respond(error.status, error.body())


async def _claims(ctx: CloudContext, request: Request, *, graph: bool) -> Mapping[str, Any]:
    header = request.headers.get("authorization")
    if not header:
        raise errors.graph_token_missing() if graph else errors.missing_authorization_header()
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise errors.graph_token_invalid() if graph else errors.invalid_authorization_header()
    authenticate = getattr(ctx, "authenticate", None)
    audiences: list[str] = []
    try:
        if authenticate is not None:
            return await run_in_threadpool(authenticate, request)
        service = ctx.endpoints["graph" if graph else "resource_manager"]
        audiences = [service, service.rstrip("/")]
        return await run_in_threadpool(ctx.issuer.validate, header[7:].strip(), audiences)
    except errors.ArmError:
        raise
    except Exception as failure:  # any validation failure is a 401
        log.info("bearer token rejected: %s", type(failure).__name__)
        if graph:
            raise errors.graph_token_invalid() from None
        raise token_error(getattr(failure, "reason", ""), header[7:].strip(),
                          audiences) from None


def token_error(reason: str, token: str, audiences: list[str]) -> errors.ArmError:
    """ARM's 401 for a token the token service refused (``reason`` from its error)."""
    if reason == "expired":
        try:
            expiry = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
        except jwt.PyJWTError:
            expiry = 0
        return errors.expired_token(datetime.fromtimestamp(expiry, UTC),
                                    datetime.now(UTC))
    if reason == "audience" and audiences:
        try:
            audience = jwt.decode(token, options={"verify_signature": False}).get("aud", "")
        except jwt.PyJWTError:
            audience = ""
        return errors.invalid_token_audience(str(audience), audiences)
    return errors.invalid_token()


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as failure:
        raise errors.invalid_request_content(str(failure)) from None
    if not isinstance(body, dict):
        raise errors.invalid_request_content("the body must be a JSON object")
    return body


def arm_app(ctx: CloudContext) -> Starlette:
    """The ARM endpoint (``https://management.localhost:{port}/``)."""
    dispatcher = Dispatcher(ctx.store, ctx.endpoints)

    async def endpoint(request: Request) -> Response:
        try:
            claims = await _claims(ctx, request, graph=False)
            query = {key.lower() if key.lower() == "api-version" else key: value
                     for key, value in request.query_params.items()}
            if not query.get("api-version"):
                raise errors.missing_api_version()
            arm_request = ArmRequest(
                method=request.method, path=request.url.path, query=query,
                body=await _json_body(request) if request.method in ("PUT", "PATCH", "POST")
                else {},
                principal_id=str(claims.get("oid", "")),
                group_ids=list(claims.get("groups") or []))
            status, body = await run_in_threadpool(dispatcher.handle, arm_request)
            return _respond(status, body)
        except errors.ArmError as failure:
            return _error(failure)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])


def graph_app(ctx: CloudContext) -> Starlette:
    """The Graph endpoint (``https://graph.localhost:{port}/v1.0/...``)."""
    store = ctx.store

    async def service_principals(request: Request) -> Response:
        try:
            await _claims(ctx, request, graph=True)
            body = await run_in_threadpool(graph_api.list_service_principals, store,
                                           request.query_params.get("$filter", ""))
            return _respond(200, body)
        except errors.ArmError as failure:
            return _error(failure)

    async def service_principal(request: Request) -> Response:
        try:
            await _claims(ctx, request, graph=True)
            return _respond(200, await run_in_threadpool(
                graph_api.get_service_principal, store, request.path_params["object_id"]))
        except errors.ArmError as failure:
            return _error(failure)

    async def directory_object(request: Request) -> Response:
        try:
            await _claims(ctx, request, graph=True)
            return _respond(200, await run_in_threadpool(
                graph_api.get_directory_object, store, request.path_params["object_id"]))
        except errors.ArmError as failure:
            return _error(failure)

    async def get_by_ids(request: Request) -> Response:
        try:
            await _claims(ctx, request, graph=True)
            body = await _json_body(request)
            return _respond(200, await run_in_threadpool(graph_api.get_by_ids, store, body))
        except errors.ArmError as failure:
            return _error(failure)

    async def application_credentials(request: Request) -> Response:
        """``/v1.0/applications/{id}/federatedIdentityCredentials[/{fic}]``."""
        try:
            await _claims(ctx, request, graph=True)
            application = request.path_params["application"]
            credential = request.path_params.get("credential")
            if credential is None and request.method == "POST":
                body = await _json_body(request)
                return _respond(201, await run_in_threadpool(
                    federated_credentials.create_for_application, store, application, body))
            if credential is None:
                return _respond(200, await run_in_threadpool(
                    federated_credentials.list_for_application, store, application))
            if request.method == "DELETE":
                await run_in_threadpool(federated_credentials.delete_for_application, store,
                                        application, credential)
                return _respond(204, None)
            return _respond(200, await run_in_threadpool(
                federated_credentials.get_for_application, store, application, credential))
        except errors.ArmError as failure:
            return _error(failure)

    async def applications_call(request: Request) -> Response:
        """``/v1.0/applications[/{id}[/addPassword]]`` and ``POST /v1.0/servicePrincipals``."""
        try:
            await _claims(ctx, request, graph=True)
            object_id = request.path_params.get("object_id")
            if request.method == "POST":
                body = await _json_body(request)
                if request.url.path.rstrip("/").endswith("/servicePrincipals"):
                    return _respond(201, await run_in_threadpool(
                        graph_applications.create_service_principal, store, body))
                if object_id is None:
                    return _respond(201, await run_in_threadpool(
                        graph_applications.create_application, store, body))
                return _respond(200, await run_in_threadpool(
                    graph_applications.add_password, store, object_id, body))
            if object_id is None:
                return _respond(200, await run_in_threadpool(
                    graph_applications.list_applications, store,
                    request.query_params.get("$filter", "")))
            return _respond(200, await run_in_threadpool(
                graph_applications.get_application, store, object_id))
        except errors.ArmError as failure:
            return _error(failure)

    return Starlette(routes=[
        Route("/v1.0/applications/{application}/federatedIdentityCredentials",
              application_credentials, methods=["GET", "POST"]),
        Route("/v1.0/applications/{application}/federatedIdentityCredentials/{credential}",
              application_credentials, methods=["GET", "DELETE"]),
        Route("/v1.0/applications{application}/federatedIdentityCredentials",
              application_credentials, methods=["GET", "POST"]),
        Route("/v1.0/applications{application}/federatedIdentityCredentials/{credential}",
              application_credentials, methods=["GET", "DELETE"]),
        Route("/v1.0/servicePrincipals", service_principals, methods=["GET"]),
        Route("/v1.0/servicePrincipals/{object_id}", service_principal, methods=["GET"]),
        Route("/v1.0/directoryObjects/getByIds", get_by_ids, methods=["POST"]),
        Route("/v1.0/directoryObjects/{object_id}", directory_object, methods=["GET"]),
        Route("/v1.0/applications", applications_call, methods=["GET", "POST"]),
        Route("/v1.0/applications/{object_id}", applications_call, methods=["GET"]),
        Route("/v1.0/applications/{object_id}/addPassword", applications_call,
              methods=["POST"]),
        Route("/v1.0/servicePrincipals", applications_call, methods=["POST"]),
    ])
