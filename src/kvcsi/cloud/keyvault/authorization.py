"""Whether a caller may run an operation on a vault: Azure RBAC or the vault's access policies.

Counterpart of Key Vault's authorization (403). Azure RBAC vaults (``enableRbacAuthorization``
true, the default) ask ``kvcsi.cloud.arm.rbac.check_data_action`` with the operation's data
action at object scope (``{vault id}/{secrets|keys|certificates}/{name}``) or vault scope;
vaults with it false evaluate their ``accessPolicies`` (§5.3). Denials carry Key Vault's exact
texts (ForbiddenByRbac / AccessDenied, §5.4).

RBAC answers are cached per (principal, groups, action, resource) and dropped whenever an
``arm`` document (role assignments, role definitions, vaults) may have changed
(:mod:`.freshness`), so a new assignment applies to the very next request. Every decision
is reported to the audit hook (:mod:`kvcsi.cloud.keyvault.audit` when it exists:
``on_authorization(record)``) and to listeners added with :func:`add_authorization_listener`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.keyvault.authentication import Caller
from kvcsi.cloud.keyvault.errors import AccessDenied, ForbiddenByRbac
from kvcsi.cloud.keyvault.freshness import StoreWatch, WatchedCache
from kvcsi.cloud.keyvault.operations import Operation
from kvcsi.cloud.store import CloudStore

log = logging.getLogger(__name__)
RBAC_MODULE = "kvcsi.cloud.arm.rbac"
AUDIT_MODULE = "kvcsi.cloud.keyvault.audit"
ACCESS_POLICY_HELP = ("For help resolving this issue, please see "
                      "https://go.microsoft.com/fwlink/?linkid=2125287")
MAX_CACHED_DECISIONS = 50_000
RBAC = "rbac"
ACCESS_POLICY = "accessPolicy"


@dataclass(frozen=True)
class AuthorizationRecord:
    """One authorization decision, as the audit hook receives it."""

    vault: dict[str, Any]
    caller: Caller
    operation: Operation
    resource_id: str
    allowed: bool
    model: str
    assignment_id: str | None


AuthorizationListener = Callable[[AuthorizationRecord], None]
_listeners: list[AuthorizationListener] = []


def add_authorization_listener(listener: AuthorizationListener) -> None:
    _listeners.append(listener)


def remove_authorization_listener(listener: AuthorizationListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _audit_hook() -> AuthorizationListener | None:
    try:
        module = importlib.import_module(AUDIT_MODULE)
    except ImportError:
        return None
    return getattr(module, "on_authorization", None)


def vault_label(vault: dict[str, Any]) -> str:
    return f"{vault['name']};location={vault.get('location', '')}"


def object_resource_id(vault: dict[str, Any], operation: Operation,
                       object_name: str | None) -> str:
    """The RBAC resource: the vault id, or ``{vault id}/{collection}/{name}``."""
    if not object_name:
        return str(vault["id"])
    return f"{vault['id']}/{operation.collection}/{object_name}"


def uses_rbac(vault: dict[str, Any]) -> bool:
    return vault.get("properties", {}).get("enableRbacAuthorization", True) is not False


class Authorizer:
    """Answers (and remembers) RBAC and access-policy decisions for one store."""

    def __init__(self, store: CloudStore) -> None:
        self.store = store
        self._decisions: WatchedCache[tuple[str, tuple[str, ...], str, str],
                                      tuple[bool, str | None]] = WatchedCache(
            StoreWatch(store, ["arm"]), MAX_CACHED_DECISIONS)
        self._audit = _audit_hook()

    def authorize(self, vault: dict[str, Any], caller: Caller, operation: Operation,
                  object_name: str | None = None) -> str | None:
        """Allow or raise 403; returns the granting role assignment id (RBAC) or None."""
        resource_id = object_resource_id(vault, operation, object_name)
        if uses_rbac(vault):
            allowed, assignment_id = self._rbac(caller, operation.action, resource_id)
            model = RBAC
        else:
            allowed, assignment_id, model = self._access_policy(vault, caller, operation), None, \
                ACCESS_POLICY
        self._report(AuthorizationRecord(vault, caller, operation, resource_id, allowed, model,
                                         assignment_id))
        if allowed:
            return assignment_id
        if model == RBAC:
            raise ForbiddenByRbac(_rbac_denial(vault, caller, operation, resource_id))
        raise AccessDenied(
            f"The user, group or application '{caller.describe()}' does not have "
            f"{operation.collection} {operation.permission} permission on key vault "
            f"'{vault_label(vault)}'. " + ACCESS_POLICY_HELP)

    def _report(self, record: AuthorizationRecord) -> None:
        for listener in ([self._audit] if self._audit else []) + _listeners:
            try:
                listener(record)
            except Exception:  # an audit failure must not change the answer
                log.exception("authorization listener failed")

    def _rbac(self, caller: Caller, action: str, resource_id: str) -> tuple[bool, str | None]:
        decisions = self._decisions.entries()
        if MAX_CACHED_DECISIONS == 0:
            decisions.clear()
        key = (caller.object_id, caller.group_ids, action, resource_id.lower())
        decision = decisions.get(key)
        if decision is None:
            decision = _check_data_action(self.store, caller, action, resource_id)
            decisions[key] = decision
        return decision

    @staticmethod
    def _access_policy(vault: dict[str, Any], caller: Caller, operation: Operation) -> bool:
        for policy in vault.get("properties", {}).get("accessPolicies") or []:
            if not _policy_applies(policy, caller):
                continue
            granted = {str(p).lower() for p in
                       policy.get("permissions", {}).get(operation.collection, [])}
            if operation.permission.lower() in granted or "all" in granted:
                return True
        return False


def _check_data_action(store: CloudStore, caller: Caller, action: str,
                       resource_id: str) -> tuple[bool, str | None]:
    try:
        rbac = importlib.import_module(RBAC_MODULE)
    except ImportError:
        log.warning("%s is not available; denying %s", RBAC_MODULE, action)
        return False, None
    decision = rbac.check_data_action(store, caller.object_id, action, resource_id,
                                      caller.group_ids)
    return bool(decision.allowed), getattr(decision, "assignment_id", None)


def _rbac_denial(vault: dict[str, Any], caller: Caller, operation: Operation,
                 resource_id: str) -> str:
    return (
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments, deny assignments or role definitions were changed recently, "
        "please observe propagation time.\r\n"
        f"Caller: {caller.describe()}\r\n"
        f"Action: '{operation.action}'\r\n"
        f"Resource: '{resource_id.lower()}'\r\n"
        "Assignment: (not found)\r\n"
        "DenyAssignmentId: null\r\n"
        "DecisionReason: null\r\n"
        f"Vault: {vault_label(vault)}\r\n"
    )


def _policy_applies(policy: dict[str, Any], caller: Caller) -> bool:
    object_id = str(policy.get("objectId", "")).lower()
    if object_id != caller.object_id.lower() and object_id not in {
            g.lower() for g in caller.group_ids}:
        return False
    tenant = str(policy.get("tenantId", caller.tenant_id)).lower()
    application = policy.get("applicationId")
    return tenant == caller.tenant_id.lower() and (
        not application or str(application).lower() == caller.app_id.lower())
