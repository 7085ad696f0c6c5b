"""Records every Key Vault data-plane request in the audit log, around the Key Vault app.

Upstream counterpart: Key Vault's ``AuditEvent`` logging. :func:`audited_keyvault` wraps the
Key Vault ASGI app (one call, in :mod:`kvcsi.cloud.app`): it sees the method, path and host
of the request, the response status and headers, and — for error answers only — the small
error body (its codes). The authorization decision itself (caller, operation, allowed, the
role assignment or access policy) comes from the Key Vault authorizer through the hook
:mod:`kvcsi.cloud.keyvault.audit`; without one (the request failed before authorization) the
event is inferred from the answer, the caller from the token's ``oid``/``appid`` claims once
Key Vault accepted the token (status other than 401). Request bodies, success bodies, query
values and tokens are never read into an event. A failure to record is logged and never
changes the answer.

Cost on the request path: a snapshot queued for :class:`~kvcsi.cloud.audit.writer.
AuditWriter`, nothing else. The writer builds the events in batches: with a decision, the
caller comes from it (no token decoding), display names and path classifications are
cached, and the document is built as a plain dict.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import jwt
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kvcsi.cloud import lookups
from kvcsi.cloud.arm import data_actions, explain
from kvcsi.cloud.audit.log import ALLOWED, DENIED, FAILED, AuditEvent, AuditLog, now_text
from kvcsi.cloud.audit.requests import RequestedOperation, classify
from kvcsi.cloud.audit.writer import AuditWriter, Entry
from kvcsi.cloud.keyvault import audit as authorization_hook
from kvcsi.cloud.store import CloudStore

log = logging.getLogger(__name__)
UNAUTHENTICATED = "unauthenticated"
ASSIGNMENT_HEADER = b"x-ms-keyvault-rbac-assignment-id"
REQUEST_ID_HEADER = b"x-ms-request-id"
PRINCIPAL_KIND = "principal"
DISPLAY_NAME_MAX_AGE = 1.0  # seconds a cached display name may miss another process's write
MAX_CACHED = 4096  # remembered display names / classified paths
DENIAL_CODES = frozenset({"ForbiddenByRbac", "AccessDenied", "ForbiddenByConnection",
                          "ForbiddenByFirewall"})
# errors answered before any authorization decision
PRE_AUTHORIZATION_CODES = frozenset({"VaultNotFound", "NotFound", "BadParameter"})
MAX_ERROR_BODY = 16_384
# one request as queued for the writer: (method/path/headers, answer, epoch time, decision)
Snapshot = tuple[dict[str, Any], "_Response", float, Any]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _claims(authorization: str) -> dict[str, Any]:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return {}
    try:
        return jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


def _error_codes(body: bytes) -> tuple[str, str]:
    """``(code, message)`` of a Key Vault error body: the inner code when there is one."""
    try:
        error = json.loads(body or b"{}").get("error") or {}
    except (ValueError, AttributeError):
        return "", ""
    inner = (error.get("innererror") or {}).get("code")
    return str(inner or error.get("code") or ""), str(error.get("message") or "")


class _Response:
    """What the wrapped app answered: status, headers (read lazily, off the request path) and
    the error body (errors only)."""

    __slots__ = ("error_body", "headers", "status")

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.error_body = b""

    def observe(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = int(message["status"])
            self.headers = message.get("headers", [])
        elif kind == "http.response.body" and self.status >= 400:
            if len(self.error_body) < MAX_ERROR_BODY:
                self.error_body += message.get("body", b"")[:MAX_ERROR_BODY]

    def _header(self, name: bytes) -> str:
        for key, value in reversed(self.headers):  # Key Vault adds its own headers last
            if key == name or key.lower() == name:
                return value.decode("latin-1")
        return ""

    @property
    def assignment_id(self) -> str:
        return self._header(ASSIGNMENT_HEADER)

    @property
    def request_id(self) -> str:
        return self._header(REQUEST_ID_HEADER)


class _DisplayNames:
    """Principal display names by object id, kept while no ``principal`` document was written
    by this process and for at most ``max_age`` seconds (writes of other processes)."""

    def __init__(self, store: CloudStore, max_age: float = DISPLAY_NAME_MAX_AGE) -> None:
        self.store = store
        self.max_age = max_age
        self._names: dict[str, str] = {}
        self._stamp: tuple[int, float] = (-1, 0.0)

    def get(self, object_id: str) -> str:
        if not object_id:
            return ""
        generation, now = self.store.generation(PRINCIPAL_KIND), time.monotonic()
        if generation != self._stamp[0] or now - self._stamp[1] > self.max_age \
                or len(self._names) >= MAX_CACHED:
            self._names.clear()
            self._stamp = (generation, now)
        name = self._names.get(object_id)
        if name is None:
            principal = lookups.principal_by_object_id(self.store, object_id)
            name = self._names[object_id] = str((principal or {}).get("displayName", ""))
        return name


class AuditRecorder:
    """Turns one request/response pair into an audit event document."""

    def __init__(self, store: CloudStore, dns_suffix: str, audit_log: AuditLog | None = None
                 ) -> None:
        self.store = store
        self.hostname_suffix = "." + dns_suffix.lower().rsplit(":", 1)[0]
        self.audit_log = audit_log or AuditLog(store)
        self.display_names = _DisplayNames(store)
        self._operations: dict[tuple[str, str], RequestedOperation] = {}

    def vault_name(self, host: str) -> str:
        name = host.lower().rsplit(":", 1)[0]
        if name.endswith(self.hostname_suffix):
            return name[: -len(self.hostname_suffix)]
        return name

    def classify(self, method: str, path: str) -> RequestedOperation:
        """:func:`classify`, remembered for the paths seen last."""
        key = (method, path)
        found = self._operations.get(key)
        if found is None:
            if len(self._operations) >= MAX_CACHED:
                self._operations.clear()
            found = self._operations[key] = classify(method, path)
        return found

    def event(self, scope: Scope, response: _Response, when: str,
              decisions: list[Any] | None = None) -> AuditEvent:
        """The event of one request (``decisions``: what the authorizer reported)."""
        if not decisions:
            return self._inferred_event(scope, response, when)
        return AuditEvent(**self._decided_document(scope, response, when, decisions[-1]))

    def entry(self, snapshot: Snapshot) -> Entry:
        """``(event document, time in µs)`` of a request snapshot (see :func:`audited_keyvault`)."""
        scope, response, moment, decision = snapshot
        when = now_text(moment)
        if decision is None:
            document = self._inferred_event(scope, response, when).document()
        else:
            document = self._decided_document(scope, response, when, decision)
        return document, int(moment * 1_000_000)

    def _decided_document(self, scope: Scope, response: _Response, when: str,
                          decision: Any) -> dict[str, Any]:
        """The event from the authorizer's own decision (its caller, operation and grant are
        authoritative); the path, status and error body add the object and error code."""
        caller, decided = decision.caller, decision.operation
        requested = self.classify(scope.get("method", ""), scope.get("path", ""))
        status = response.status
        code = _error_codes(response.error_body)[0] if status >= 400 else ""
        if decision.allowed:
            result, reason, error_code = ALLOWED, "", code
            granted = decision.assignment_id or (
                explain.ACCESS_POLICY if decision.model == explain.ACCESS_POLICY else "")
        else:
            denial = "ForbiddenByRbac" if decision.model == "rbac" else "AccessDenied"
            result, granted, error_code = DENIED, "", code or denial
            reason = self._denial_reason(denial, data_actions.operation(decided.name))
        return {
            "time": when,
            "vault": str(decision.vault.get("name")
                         or self.vault_name(_header(scope, b"host"))),
            "operation": decided.name, "httpStatus": status, "result": result,
            "callerObjectId": caller.object_id,
            "callerName": self.display_names.get(caller.object_id),
            "appId": caller.app_id, "objectType": requested.object_type,
            "objectName": requested.object_name, "objectVersion": requested.object_version,
            "dataAction": decided.action, "grantedBy": granted, "errorCode": error_code,
            "reason": reason, "requestId": response.request_id}

    def _inferred_event(self, scope: Scope, response: _Response, when: str) -> AuditEvent:
        """The event as the answer alone tells it (no authorizer report): the caller from the
        token's claims, its name and the grant from the store."""
        operation = classify(scope.get("method", ""), scope.get("path", ""))
        vault_name = self.vault_name(_header(scope, b"host"))
        vault = lookups.vault_by_name(self.store, vault_name)
        vault_name = str(vault["name"]) if vault else vault_name
        code, message = _error_codes(response.error_body) if response.status >= 400 else ("", "")
        claims = {} if response.status == 401 else _claims(_header(scope, b"authorization"))
        object_id, app_id = str(claims.get("oid", "")), str(claims.get("appid", ""))
        catalogued = data_actions.operation(operation.name)
        fields: dict[str, Any] = dict(
            time=when, vault=vault_name, operation=operation.name,
            httpStatus=response.status, result=FAILED,
            callerObjectId=object_id,
            callerName=self.display_names.get(object_id),
            appId=app_id, objectType=operation.object_type, objectName=operation.object_name,
            objectVersion=operation.object_version,
            dataAction=catalogued.data_action if catalogued else "",
            errorCode=code, requestId=response.request_id)
        if response.status == 401:
            fields.update(result=UNAUTHENTICATED, reason=message)
        elif code in DENIAL_CODES:
            fields.update(result=DENIED, reason=self._denial_reason(code, catalogued))
        elif response.status < 400 or code not in PRE_AUTHORIZATION_CODES:
            fields.update(result=ALLOWED, grantedBy=response.assignment_id or self._grant(
                vault, object_id, catalogued, operation.object_name))
        else:
            fields.update(reason=message)
        return AuditEvent(**fields)

    @staticmethod
    def _denial_reason(code: str, operation: data_actions.DataOperation | None) -> str:
        if operation is None:
            return code
        if code == "ForbiddenByRbac":
            return f"no role assignment of the caller grants '{operation.data_action}'"
        if code == "AccessDenied":
            return (f"no access policy of the caller grants "
                    f"{operation.describe_permission()}")
        return code

    def _grant(self, vault: dict[str, Any] | None, object_id: str,
               operation: data_actions.DataOperation | None, object_name: str) -> str:
        """The grant behind an allowed answer that did not carry the assignment header."""
        if vault is None or operation is None or not object_id:
            return ""
        decision = explain.decide(self.store, vault, object_id, operation, object_name or None)
        if decision.grant is None:
            return ""
        if decision.grant.kind == explain.ACCESS_POLICY:
            return explain.ACCESS_POLICY
        return decision.grant.assignment_id


def audited_keyvault(app: ASGIApp, ctx: Any) -> ASGIApp:
    """The Key Vault app, with every HTTP request recorded in ``ctx.store``'s audit log.

    The request path only takes a snapshot (method, path, headers, the answer's status,
    headers and error body, the authorizer's decision) and queues it; the writer builds and
    stores the events in batches, between requests (:mod:`kvcsi.cloud.audit.writer`).
    """
    recorder = AuditRecorder(ctx.store, ctx.endpoints.keyvault_dns_suffix)
    writer: AuditWriter[Snapshot] = AuditWriter(recorder.audit_log, recorder.entry)
    submit = writer.submit

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        moment = time.time()
        response = _Response()

        async def observing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response.status = int(message["status"])
                response.headers = message.get("headers", [])
            elif response.status >= 400:
                response.observe(message)
            await send(message)

        decisions, token = authorization_hook.open_collector()
        try:
            await app(scope, receive, observing_send)
        finally:
            authorization_hook.close_collector(token)
            if response.status:
                try:
                    submit(({"method": scope.get("method", ""), "path": scope.get("path", ""),
                             "headers": scope.get("headers", [])}, response, moment,
                            decisions[-1] if decisions else None))
                except Exception:  # auditing never changes Key Vault's answer
                    log.exception("could not queue an audit event")

    return wrapped
