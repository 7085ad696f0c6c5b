"""Why Key Vault allows or denies one identity one operation: the decision and its grant.

No upstream counterpart (Azure only answers 403). The decision is Key Vault's own: RBAC
vaults ask :mod:`kvcsi.cloud.arm.rbac` for the operation's data action at the object (or
vault) scope; access-policy vaults look for a (non-compound) policy of the principal with the
permission. :func:`decide` names what grants it. When the answer is no,
:func:`kvcsi.cloud.arm.explain_misses.nearest_misses` looks for what comes closest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.arm import rbac
from kvcsi.cloud.arm.data_actions import DataOperation, object_resource_id
from kvcsi.cloud.store import CloudStore

ROLE_ASSIGNMENT = "roleAssignment"
ACCESS_POLICY = "accessPolicy"


@dataclass(frozen=True)
class Grant:
    """What allows an operation: a role assignment, or an access policy entry."""

    kind: str
    principal_id: str
    assignment_id: str = ""
    role_name: str = ""
    role_definition_id: str = ""
    scope: str = ""
    permissions: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == ROLE_ASSIGNMENT:
            return f"role '{self.role_name}' assigned at scope '{self.scope}'"
        return ("the vault's access policy for object id "
                f"'{self.principal_id}' ({', '.join(self.permissions)})")

    def document(self) -> dict[str, Any]:
        if self.kind == ROLE_ASSIGNMENT:
            return {"kind": self.kind, "assignmentId": self.assignment_id,
                    "roleName": self.role_name, "roleDefinitionId": self.role_definition_id,
                    "scope": self.scope, "principalId": self.principal_id}
        return {"kind": self.kind, "objectId": self.principal_id,
                "permissions": list(self.permissions)}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    grant: Grant | None = None


def uses_rbac(vault: dict[str, Any]) -> bool:
    return vault.get("properties", {}).get("enableRbacAuthorization", True) is not False


def permission_model(vault: dict[str, Any]) -> str:
    return "rbac" if uses_rbac(vault) else "accessPolicy"


def role_name(definition: dict[str, Any] | None, role_definition_id: str) -> str:
    if definition is None:
        return role_definition_id.rsplit("/", 1)[-1]
    return str(definition["properties"]["roleName"])


def assignment_grant(store: CloudStore, assignment: dict[str, Any]) -> Grant:
    properties = assignment["properties"]
    definition = rbac.role_definition(store, properties["roleDefinitionId"])
    return Grant(ROLE_ASSIGNMENT, properties["principalId"], assignment["id"],
                 role_name(definition, properties["roleDefinitionId"]),
                 properties["roleDefinitionId"], properties.get("scope", ""))


def role_grants(store: CloudStore, assignment: dict[str, Any], action: str) -> bool:
    definition = rbac.role_definition(store, assignment["properties"]["roleDefinitionId"])
    return definition is not None and rbac.grants(definition["properties"]["permissions"],
                                                  action, data=True)


def policy_permissions(policy: dict[str, Any], operation: DataOperation) -> tuple[str, ...]:
    return tuple(str(p) for p in policy.get("permissions", {}).get(operation.policy_category,
                                                                    []) or [])


def policy_allows(policy: dict[str, Any], operation: DataOperation) -> bool:
    granted = {p.lower() for p in policy_permissions(policy, operation)}
    return operation.permission.lower() in granted or "all" in granted


def policies_of(vault: dict[str, Any], principal_id: str) -> list[dict[str, Any]]:
    return [policy for policy in vault.get("properties", {}).get("accessPolicies") or []
            if str(policy.get("objectId", "")).lower() == principal_id.lower()]


def is_compound(policy: dict[str, Any]) -> bool:
    """A compound-identity entry: it applies only to this principal acting through an app."""
    return bool(policy.get("applicationId"))


def policy_decision(vault: dict[str, Any], principal_id: str,
                     operation: DataOperation) -> Decision:
    for policy in policies_of(vault, principal_id):
        if not is_compound(policy) and policy_allows(policy, operation):
            return Decision(True, Grant(ACCESS_POLICY, str(policy["objectId"]),
                                        permissions=policy_permissions(policy, operation)))
    return Decision(False)


def rbac_decision(store: CloudStore, principal_id: str, operation: DataOperation,
                   resource_id: str) -> Decision:
    for assignment in rbac.applicable_assignments(store, [principal_id], resource_id):
        if role_grants(store, assignment, operation.data_action):
            return Decision(True, assignment_grant(store, assignment))
    return Decision(False)


def decide(store: CloudStore, vault: dict[str, Any], principal_id: str,
           operation: DataOperation, object_name: str | None = None) -> Decision:
    """Key Vault's answer for ``principal_id`` doing ``operation`` (on ``object_name``)."""
    if not uses_rbac(vault):
        return policy_decision(vault, principal_id, operation)
    resource_id = object_resource_id(vault["id"], operation.object_type, object_name)
    return rbac_decision(store, principal_id, operation, resource_id)
