"""kvcsi's own management-plane endpoints (not Azure's): explain and the Key Vault audit log.

On ``https://management.localhost:{port}`` (contract ``local-wiring.md`` §3.5):

- ``POST /providers/kvcsi/explain`` — body = an explain question
  (:mod:`kvcsi.cloud.arm.explain_query`), answer = the explanation document;
- ``GET /providers/kvcsi/auditEvents?vault=&caller=&result=&operation=&since=&top=`` —
  ``{"value": [audit events, oldest first]}`` (``since`` = epoch seconds).

Both take an ARM bearer token, like every ARM call, and need the control-plane action
``Microsoft.Authorization/roleAssignments/read`` at the default subscription (Owner and
Reader have it). Every other path goes to the wrapped ARM app unchanged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from kvcsi.cloud import lookups
from kvcsi.cloud.arm import errors, rbac
from kvcsi.cloud.arm.explain_query import ExplainError, answer
from kvcsi.cloud.audit.log import AuditLog, AuditQuery

log = logging.getLogger(__name__)
PREFIX = "/providers/kvcsi/"
EXPLAIN_PATH = PREFIX + "explain"
AUDIT_PATH = PREFIX + "auditEvents"
REQUIRED_ACTION = "Microsoft.Authorization/roleAssignments/read"


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class KvcsiRoutes:
    """Serves the kvcsi paths; passes everything else to the ARM app."""

    def __init__(self, arm: ASGIApp, ctx: Any) -> None:
        self.arm = arm
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(PREFIX):
            await self.arm(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._handle(request)
        except errors.ArmError as failure:
            response = JSONResponse(failure.body(), status_code=failure.status)
        except ExplainError as failure:
            response = _error(failure.status, failure.code, failure.message)
        await response(scope, receive, send)

    def _caller(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        if not header:
            raise errors.missing_authorization_header()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.invalid_authorization_header()
        resource = self.ctx.endpoints["resource_manager"]
        try:
            claims = self.ctx.issuer.validate(token.strip(), [resource, resource.rstrip("/")])
        except Exception as failure:  # any validation failure is a 401
            log.info("bearer token rejected: %s", type(failure).__name__)
            raise errors.invalid_token() from None
        object_id = str(claims.get("oid", ""))
        subscription = (self.ctx.subscription_id
                        or lookups.default_subscription_id(self.ctx.store) or "")
        scope = f"/subscriptions/{subscription}"
        decision = rbac.check_action(self.ctx.store, object_id, REQUIRED_ACTION, scope,
                                     list(claims.get("groups") or []))
        if not decision.allowed:
            raise errors.authorization_failed(object_id, REQUIRED_ACTION, scope)
        return object_id

    async def _handle(self, request: Request) -> Response:
        path = request.url.path.rstrip("/")
        if path == EXPLAIN_PATH and request.method == "POST":
            await run_in_threadpool(self._caller, request)
            try:
                question = json.loads(await request.body() or b"{}")
            except ValueError as failure:
                raise errors.invalid_request_content(str(failure)) from None
            if not isinstance(question, dict):
                raise errors.invalid_request_content("the body must be a JSON object")
            return JSONResponse(await run_in_threadpool(answer, self.ctx.store, question))
        if path == AUDIT_PATH and request.method == "GET":
            await run_in_threadpool(self._caller, request)
            query = _audit_query(request)
            events = await run_in_threadpool(AuditLog(self.ctx.store).query, query)
            return JSONResponse({"value": events})
        return _error(404, "NotFound", f"No kvcsi operation {request.method} {path}.")


def _audit_query(request: Request) -> AuditQuery:
    params = request.query_params
    try:
        since = float(params["since"]) if params.get("since") else None
        top = int(params["top"]) if params.get("top") else None
    except ValueError:
        raise errors.bad_request("'since' must be epoch seconds and 'top' an integer.") \
            from None
    return AuditQuery(vault=params.get("vault") or None, caller=params.get("caller") or None,
                      result=params.get("result") or None,
                      operation=params.get("operation") or None, since=since, limit=top)


def with_kvcsi_routes(arm: ASGIApp, ctx: Any) -> ASGIApp:
    """The ARM app with kvcsi's explain and audit endpoints in front of it."""
    return KvcsiRoutes(arm, ctx)
