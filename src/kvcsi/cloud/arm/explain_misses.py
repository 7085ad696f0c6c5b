"""The nearest miss of a denied Key Vault operation: what comes closest to allowing it.

No upstream counterpart. Looked for in this order (nearest first):

``other-permission-model``  an access policy on an RBAC vault (ignored), or a role assignment
                            on an access-policy vault (ignored)
``missing-data-action``     a role that applies at this scope but lacks the data action
                            (Key Vault Reader for getSecret, Owner for anything)
``missing-permission``      an access policy of the principal without this permission (or a
                            compound-identity entry that needs the application)
``wrong-scope``             a role with the data action assigned on another vault, another
                            object, another resource group or subscription
``other-identity``          another identity of the same scale set (the add-on identity,
                            the system-assigned one) is allowed, but this one is used
``no-access``               none of the above
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kvcsi.cloud.arm import directory, ids, rbac, roles
from kvcsi.cloud.arm.data_actions import DataOperation, object_resource_id
from kvcsi.cloud.arm.explain import (
    assignment_grant,
    decide,
    is_compound,
    policies_of,
    policy_allows,
    policy_decision,
    policy_permissions,
    rbac_decision,
    role_grants,
    uses_rbac,
)
from kvcsi.cloud.arm.explain_inventory import Inventory
from kvcsi.cloud.store import CloudStore


@dataclass(frozen=True)
class NearestMiss:
    kind: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, **self.details}



def _scope_relation(scope: str, resource_id: str, vault: dict[str, Any]) -> str:
    """How an assignment's scope misses the resource, in words."""
    vault_key, scope_key = ids.key(vault["id"]), ids.key(scope)
    if scope_key.startswith(vault_key + "/"):
        tail = ids.segments(scope)[len(ids.segments(vault["id"])):]
        kind = {"secrets": "secret", "keys": "key", "certificates": "certificate"}.get(
            tail[0].lower(), tail[0]) if tail else "object"
        name = tail[1] if len(tail) > 1 else ""
        return f"on another {kind} '{name}' of vault '{vault['name']}'"
    parsed = ids.parse_resource(scope)
    if parsed is not None and parsed.provider_type.lower() == "microsoft.keyvault/vaults":
        return f"on another vault '{parsed.name}'"
    if parsed is not None:
        return f"on another resource '{parsed.name}' ({parsed.provider_type})"
    group = ids.resource_group_of(scope)
    if group is not None:
        return f"on another resource group '{ids.segments(group)[-1]}'"
    if ids.subscription_of(scope):
        return f"on another subscription '{ids.subscription_of(scope)}'"
    return f"at scope '{scope}'"


def _model_misses(store: CloudStore, vault: dict[str, Any], principal_id: str,
                  operation: DataOperation, resource_id: str) -> list[NearestMiss]:
    if uses_rbac(vault):
        found = policy_decision(vault, principal_id, operation)
        if not found.allowed or found.grant is None:
            return []
        return [NearestMiss(
            "other-permission-model",
            f"vault '{vault['name']}' uses Azure RBAC (enableRbacAuthorization: true), so its "
            f"access policy granting {operation.describe_permission()} to this identity is "
            "ignored; assign a Key Vault role instead",
            {"vaultPermissionModel": "rbac", "ignored": found.grant.document()})]
    found = rbac_decision(store, principal_id, operation, resource_id)
    if not found.allowed or found.grant is None:
        return []
    return [NearestMiss(
        "other-permission-model",
        f"vault '{vault['name']}' uses access policies (enableRbacAuthorization: false), so "
        f"{found.grant.describe()} is ignored; add an access policy with "
        f"{operation.describe_permission()} or switch the vault to Azure RBAC",
        {"vaultPermissionModel": "accessPolicy", "ignored": found.grant.document()})]


def _data_action_misses(store: CloudStore, principal_id: str, operation: DataOperation,
                        resource_id: str) -> list[NearestMiss]:
    misses = []
    for assignment in rbac.applicable_assignments(store, [principal_id], resource_id):
        grant = assignment_grant(store, assignment)
        definition = rbac.role_definition(store, grant.role_definition_id)
        data_actions = [a for block in (definition or {}).get("properties", {}).get(
            "permissions", []) for a in block.get("dataActions", [])]
        has = (f"its data actions are {', '.join(data_actions)}" if data_actions
               else "it has no data actions (a control-plane role gives no access to the "
                    "vault's contents)")
        misses.append(NearestMiss(
            "missing-data-action",
            f"{grant.describe()} applies here but lacks the data action "
            f"'{operation.data_action}': {has}",
            {"assignment": grant.document(), "missingDataAction": operation.data_action}))
    return misses


def _permission_misses(vault: dict[str, Any], principal_id: str,
                       operation: DataOperation) -> list[NearestMiss]:
    misses = []
    for policy in policies_of(vault, principal_id):
        if is_compound(policy) and policy_allows(policy, operation):
            misses.append(NearestMiss(
                "missing-permission",
                f"the access policy of this identity on vault '{vault['name']}' is a compound "
                f"identity entry (applicationId '{policy['applicationId']}'): it grants "
                f"{operation.describe_permission()} only when this identity calls through "
                "that application",
                {"objectId": principal_id, "applicationId": policy["applicationId"]}))
            continue
        misses.append(NearestMiss(
            "missing-permission",
            f"the access policy of this identity on vault '{vault['name']}' grants "
            f"{operation.policy_category} [{', '.join(policy_permissions(policy, operation))}] "
            f"but not '{operation.permission}'",
            {"objectId": principal_id, "missingPermission": operation.describe_permission()}))
    return misses


def _scope_misses(store: CloudStore, inventory: Inventory, vault: dict[str, Any],
                  principal_id: str, operation: DataOperation,
                  resource_id: str) -> list[NearestMiss]:
    misses = []
    for assignment in inventory.assignments_of(principal_id):
        scope = assignment["properties"].get("scope", "")
        if ids.scope_contains(scope, resource_id):
            continue
        if not role_grants(store, assignment, operation.data_action):
            continue
        grant = assignment_grant(store, assignment)
        misses.append(NearestMiss(
            "wrong-scope",
            f"role '{grant.role_name}' grants '{operation.data_action}' but is assigned "
            f"{_scope_relation(scope, resource_id, vault)} (scope '{scope}'), which does "
            f"not contain '{resource_id}'",
            {"assignment": grant.document(), "resource": resource_id}))
    return misses


def _identity_misses(store: CloudStore, inventory: Inventory, vault: dict[str, Any],
                     principal_id: str, operation: DataOperation,
                     object_name: str | None) -> list[NearestMiss]:
    misses = []
    for vmss, other in inventory.sibling_identities(principal_id):
        decision = decide(store, vault, other.principal_id, operation, object_name)
        if not decision.allowed or decision.grant is None:
            continue
        other_label = inventory.describe_identity(other.principal_id)
        this_label = inventory.describe_identity(principal_id)
        misses.append(NearestMiss(
            "other-identity",
            f"{other_label} on the same scale set '{vmss['name']}' is allowed by "
            f"{decision.grant.describe()}, but {this_label} is the identity used; use "
            f"client id '{other.client_id}' (userAssignedIdentityID) or grant this identity",
            {"allowedIdentity": {"objectId": other.principal_id, "clientId": other.client_id,
                                 "kind": other.kind, "name": other_label},
             "grant": decision.grant.document(), "scaleSet": vmss["id"]}))
    return misses


def nearest_misses(store: CloudStore, vault: dict[str, Any], principal_id: str,
                   operation: DataOperation, object_name: str | None = None,
                   inventory: Inventory | None = None) -> list[NearestMiss]:
    """What comes closest to allowing a denied operation, nearest first."""
    inventory = inventory or Inventory.load(store)
    resource_id = object_resource_id(vault["id"], operation.object_type, object_name)
    misses = _model_misses(store, vault, principal_id, operation, resource_id)
    if uses_rbac(vault):
        misses += _data_action_misses(store, principal_id, operation, resource_id)
        misses += _scope_misses(store, inventory, vault, principal_id, operation, resource_id)
    else:
        misses += _permission_misses(vault, principal_id, operation)
    misses += _identity_misses(store, inventory, vault, principal_id, operation, object_name)
    if not misses:
        hint = fix_hint(store, vault, principal_id, operation, resource_id)
        misses.append(NearestMiss(
            "no-access",
            f"no role assignment, access policy or sibling identity comes close: "
            f"{inventory.describe_identity(principal_id)} has nothing granting "
            f"'{operation.data_action if uses_rbac(vault) else operation.describe_permission()}'"
            f" on vault '{vault['name']}'; {hint}"))
    return misses


# Least-privileged first: the role a fix hint suggests for a missing data action.
_SUGGESTED_ROLES = (
    roles.KEY_VAULT_SECRETS_USER, roles.KEY_VAULT_CRYPTO_USER, roles.KEY_VAULT_CERTIFICATE_USER,
    roles.KEY_VAULT_READER, roles.KEY_VAULT_SECRETS_OFFICER, roles.KEY_VAULT_CRYPTO_OFFICER,
    roles.KEY_VAULT_CERTIFICATES_OFFICER, roles.KEY_VAULT_ADMINISTRATOR,
)


def fix_hint(store: CloudStore, vault: dict[str, Any], principal_id: str,
             operation: DataOperation, resource_id: str) -> str:
    """The az command that would grant the operation, least privilege first."""
    principal = directory.principal_by_object_id(store, principal_id) or {}
    assignee = principal.get("appId") or principal_id
    if not uses_rbac(vault):
        return (f"to allow it: az keyvault set-policy --name {vault['name']} --object-id "
                f"{principal_id} --{operation.policy_category.rstrip('s')}-permissions "
                f"{operation.permission}")
    for role in _SUGGESTED_ROLES:
        if rbac.grants(role.permissions(), operation.data_action, data=True):
            return (f'to allow it: az role assignment create --role "{role.name}" '
                    f"--assignee {assignee} --scope {resource_id}")
    return f"no built-in role grants '{operation.data_action}'"
