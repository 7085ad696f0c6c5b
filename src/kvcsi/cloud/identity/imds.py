"""The Instance Metadata Service's managed-identity endpoint, one address per VM.

Counterpart of ``http://169.254.169.254/metadata/identity/oauth2/token``. Locally each VM
has its own base ``http://127.0.0.1:{imds_port}/vms/{vmId}`` (the node's
``AZURE_POD_IDENTITY_AUTHORITY_HOST``), so the service knows which VM asks. The identity is
chosen from the VM's scale set as IMDS does: an explicit ``client_id`` / ``object_id`` /
``msi_res_id`` (or App Service's spelling ``mi_res_id``), else the system-assigned identity,
else the only user-assigned one. Answers carry IMDS's string-valued JSON and its 400 errors.

Refusals before any identity work, in this order: more than the VM's rate (429 with
``Retry-After``, :mod:`imds_limits`); a request carrying ``X-Forwarded-For`` (IMDS refuses
proxied requests; real IMDS's exact answer is not documented — locally 400
``invalid_request`` / ``X-Forwarded-For header is not allowed``); no ``Metadata: true``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kvcsi.cloud import lookups
from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.identity.errors import unknown_resource
from kvcsi.cloud.identity.imds_limits import ImdsLimits, ThrottleTable
from kvcsi.cloud.identity.resources import is_known_resource
from kvcsi.cloud.identity.tokens import APPIDACR_MANAGED_IDENTITY, MANAGED_IDENTITY_LIFETIME

JSON_UTF8 = "application/json; charset=utf-8"
FORWARDED_NOT_ALLOWED = "X-Forwarded-For header is not allowed"
MULTIPLE_IDENTITIES = ("Multiple user assigned identities exist, please specify the clientId / "
                       "resourceId of the identity in the token request")


class ImdsError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def _identity_not_found() -> ImdsError:
    return ImdsError(400, "invalid_request", "Identity not found")


@dataclass(frozen=True)
class ManagedIdentity:
    """One identity of a VM: its principal document and the ``xms_mirid`` of its tokens."""

    principal: dict[str, Any]
    resource_id: str
    tenant_id: str | None


def _user_assigned(ctx: CloudContext, resource_id: str, entry: dict[str, Any],
                   tenant_id: str | None) -> ManagedIdentity:
    principal_id = str(entry.get("principalId", ""))
    principal = lookups.principal_by_object_id(ctx.store, principal_id) if principal_id else None
    if principal is None:
        principal = {"id": principal_id, "appId": entry.get("clientId", ""),
                     "servicePrincipalType": "ManagedIdentity",
                     "alternativeNames": [resource_id]}
    return ManagedIdentity(principal, resource_id, principal.get("tenantId", tenant_id))


def vm_identities(ctx: CloudContext, vmss: dict[str, Any]
                  ) -> tuple[ManagedIdentity | None, list[ManagedIdentity]]:
    """``(system-assigned or None, user-assigned list)`` of a scale set."""
    identity = vmss.get("identity") or {}
    tenant_id = identity.get("tenantId")
    system = None
    if "systemassigned" in str(identity.get("type", "")).replace(" ", "").lower().split(","):
        principal_id = identity.get("principalId")
        principal = (lookups.principal_by_object_id(ctx.store, principal_id)
                     if principal_id else None)
        if principal is not None:
            system = ManagedIdentity(principal, vmss["id"], principal.get("tenantId", tenant_id))
    user_assigned = [
        _user_assigned(ctx, resource_id, entry or {}, tenant_id)
        for resource_id, entry in (identity.get("userAssignedIdentities") or {}).items()
    ]
    return system, user_assigned


def select_identity(ctx: CloudContext, vmss: dict[str, Any], *, client_id: str | None,
                    object_id: str | None, msi_res_id: str | None) -> ManagedIdentity:
    """The identity a token request names, with IMDS's rules and errors."""
    system, user_assigned = vm_identities(ctx, vmss)
    candidates = ([system] if system else []) + user_assigned
    if client_id:
        matches = [i for i in candidates
                   if str(i.principal.get("appId", "")).lower() == client_id.lower()]
    elif object_id:
        matches = [i for i in candidates
                   if str(i.principal.get("id", "")).lower() == object_id.lower()]
    elif msi_res_id:
        matches = [i for i in user_assigned if i.resource_id.lower() == msi_res_id.lower()]
    elif system is not None:
        matches = [system]
    elif len(user_assigned) > 1:
        raise ImdsError(400, "invalid_request", MULTIPLE_IDENTITIES)
    else:
        matches = user_assigned
    if not matches:
        raise _identity_not_found()
    return matches[0]


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return JSONResponse(body, status_code=status, media_type=JSON_UTF8)


def _too_many_requests(retry_after: int, limits: ImdsLimits) -> Response:
    return JSONResponse(
        {"error": "too_many_requests",
         "error_description": f"Too many requests: the managed identity endpoint of this VM "
                              f"allows {limits.requests_per_second} requests per second and "
                              f"{limits.max_concurrent} concurrent requests."},
        status_code=429, media_type=JSON_UTF8, headers={"Retry-After": str(retry_after)})


def _issue(ctx: CloudContext, vmss: dict[str, Any], query: Any) -> tuple[ManagedIdentity, str,
                                                                         str, str, int]:
    resource = query.get("resource")
    if not resource:
        raise ImdsError(400, "invalid_request", "Required audience parameter not specified")
    identity = select_identity(ctx, vmss, client_id=query.get("client_id"),
                               object_id=query.get("object_id"),
                               msi_res_id=query.get("msi_res_id") or query.get("mi_res_id"))
    tenant_id = identity.tenant_id or ctx.tenant_id
    if not is_known_resource(resource, ctx.endpoints):
        raise ImdsError(400, "invalid_resource", unknown_resource(resource, tenant_id).text)
    access_token, expires_on = ctx.issuer.issue(
        identity.principal, resource, tenant_id, lifetime_seconds=MANAGED_IDENTITY_LIFETIME,
        appidacr=APPIDACR_MANAGED_IDENTITY, mirid=identity.resource_id)
    return identity, resource, tenant_id, access_token, expires_on


def token(ctx: CloudContext, throttles: ThrottleTable):
    async def endpoint(request: Request) -> Response:
        vm_id = request.path_params["vm_id"]
        found = await run_in_threadpool(lookups.vm_by_vm_id, ctx.store, vm_id)
        if found is None:
            return _json({"error": "not_found",
                          "error_description": f"No VM with vmId '{vm_id}' in the local cloud"},
                         404)
        _, vmss = found
        throttle = throttles.for_vm(vm_id)
        retry_after = throttle.admit()
        if retry_after is not None:
            return _too_many_requests(retry_after, throttles.limits)
        try:
            if "x-forwarded-for" in request.headers:
                raise ImdsError(400, "invalid_request", FORWARDED_NOT_ALLOWED)
            if request.headers.get("metadata", "").lower() != "true":
                raise ImdsError(400, "invalid_request", "Required metadata header not specified")
            identity, resource, tenant_id, access_token, expires_on = await run_in_threadpool(
                _issue, ctx, vmss, request.query_params)
        except ImdsError as error:
            return _json({"error": error.error, "error_description": error.description},
                         error.status)
        finally:
            throttle.release()
        now = int(time.time())
        expires_in = str(max(expires_on - now, 0))
        return _json({
            "access_token": access_token,
            "client_id": str(identity.principal.get("appId", "")),
            "expires_in": expires_in,
            "expires_on": str(expires_on),
            "ext_expires_in": expires_in,
            "not_before": str(expires_on - MANAGED_IDENTITY_LIFETIME),
            "resource": resource,
            "token_type": "Bearer",
        })
    return endpoint


def imds_app(ctx: CloudContext, limits: ImdsLimits | None = None) -> Starlette:
    throttles = ThrottleTable(limits)
    return Starlette(routes=[
        Route("/vms/{vm_id}/metadata/identity/oauth2/token", token(ctx, throttles),
              methods=["GET"]),
    ])
