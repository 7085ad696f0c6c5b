"""Who calls Key Vault, and whether they may: bearer-token check, then RBAC or access policies.

Counterpart of Key Vault's authentication (401 + challenge) and authorization (403). Azure
RBAC vaults (``enableRbacAuthorization`` true, the default) ask
``kvcsi.cloud.arm.rbac.check_data_action``; vaults with it false evaluate their
``accessPolicies``. Denials carry Key Vault's exact texts (ForbiddenByRbac / AccessDenied).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.endpoints import CloudEndpoints
from kvcsi.cloud.identity.resources import keyvault_audiences
from kvcsi.cloud.identity.tokens import TokenIssuer, TokenValidationError, missing_token_error
from kvcsi.cloud.keyvault.errors import AccessDenied, ForbiddenByRbac, Unauthorized
from kvcsi.cloud.store import CloudStore

log = logging.getLogger(__name__)
RBAC_MODULE = "kvcsi.cloud.arm.rbac"
ACCESS_POLICY_HELP = ("For help resolving this issue, please see "
                      "https://go.microsoft.com/fwlink/?linkid=2125287")


@dataclass(frozen=True)
class SecretOperation:
    """One data-plane operation: its RBAC data action and its access-policy permission."""

    action: str
    permission: str


GET_SECRET = SecretOperation("Microsoft.KeyVault/vaults/secrets/getSecret/action", "get")
SET_SECRET = SecretOperation("Microsoft.KeyVault/vaults/secrets/setSecret/action", "set")
LIST_SECRETS = SecretOperation("Microsoft.KeyVault/vaults/secrets/readMetadata/action", "list")


@dataclass(frozen=True)
class Caller:
    """The identity behind a validated token."""

    object_id: str
    app_id: str
    issuer: str
    tenant_id: str

    def describe(self) -> str:
        """How Key Vault names a caller in its errors."""
        return f"appid={self.app_id};oid={self.object_id};iss={self.issuer}"


def authenticate(issuer: TokenIssuer, endpoints: CloudEndpoints, authorization: str | None,
                 vault_tenant_id: str) -> Caller:
    """The caller of a request from its ``Authorization`` header, or :class:`Unauthorized`."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise missing_token_error()
        claims = issuer.validate(token.strip(), keyvault_audiences(endpoints),
                                 expected_tenant_id=vault_tenant_id)
    except TokenValidationError as error:
        raise Unauthorized(error.message) from None
    return Caller(object_id=str(claims.get("oid", "")), app_id=str(claims.get("appid", "")),
                  issuer=str(claims.get("iss", "")), tenant_id=str(claims.get("tid", "")))


def _vault_label(vault: dict[str, Any]) -> str:
    return f"{vault['name']};location={vault.get('location', '')}"


def _check_data_action(store: CloudStore, principal_id: str, action: str,
                       resource_id: str) -> tuple[bool, str | None]:
    try:
        rbac = importlib.import_module(RBAC_MODULE)
    except ImportError:
        log.warning("%s is not available; denying %s", RBAC_MODULE, action)
        return False, None
    decision = rbac.check_data_action(store, principal_id, action, resource_id)
    return bool(decision.allowed), getattr(decision, "assignment_id", None)


def _authorize_by_rbac(store: CloudStore, vault: dict[str, Any], caller: Caller,
                       operation: SecretOperation, secret_name: str | None) -> str | None:
    resource_id = vault["id"] + (f"/secrets/{secret_name}" if secret_name else "")
    allowed, assignment_id = _check_data_action(store, caller.object_id, operation.action,
                                                resource_id)
    if allowed:
        return assignment_id
    raise ForbiddenByRbac(
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments, deny assignments or role definitions were changed recently, "
        "please observe propagation time.\r\n"
        f"Caller: {caller.describe()}\r\n"
        f"Action: '{operation.action}'\r\n"
        f"Resource: '{resource_id.lower()}'\r\n"
        "Assignment: (not found)\r\n"
        "DenyAssignmentId: null\r\n"
        "DecisionReason: null\r\n"
        f"Vault: {_vault_label(vault)}\r\n"
    )


def _policy_applies(policy: dict[str, Any], caller: Caller) -> bool:
    if str(policy.get("objectId", "")).lower() != caller.object_id.lower():
        return False
    tenant = str(policy.get("tenantId", caller.tenant_id)).lower()
    application = policy.get("applicationId")
    return tenant == caller.tenant_id.lower() and (
        not application or str(application).lower() == caller.app_id.lower())


def _authorize_by_access_policy(vault: dict[str, Any], caller: Caller,
                                operation: SecretOperation) -> None:
    for policy in vault.get("properties", {}).get("accessPolicies") or []:
        if not _policy_applies(policy, caller):
            continue
        granted = {str(p).lower() for p in policy.get("permissions", {}).get("secrets", [])}
        if operation.permission in granted or "all" in granted:
            return
    raise AccessDenied(
        f"The user, group or application '{caller.describe()}' does not have secrets "
        f"{operation.permission} permission on key vault '{_vault_label(vault)}'. "
        + ACCESS_POLICY_HELP
    )


def uses_rbac(vault: dict[str, Any]) -> bool:
    return vault.get("properties", {}).get("enableRbacAuthorization", True) is not False


def authorize(store: CloudStore, vault: dict[str, Any], caller: Caller,
              operation: SecretOperation, secret_name: str | None = None) -> str | None:
    """Allow or raise 403; returns the granting role assignment id (RBAC vaults) or None."""
    if uses_rbac(vault):
        return _authorize_by_rbac(store, vault, caller, operation, secret_name)
    _authorize_by_access_policy(vault, caller, operation)
    return None
