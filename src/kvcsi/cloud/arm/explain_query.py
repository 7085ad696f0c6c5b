"""One ``explain`` question from start to answer: who is asking, which vault, which objects.

No upstream counterpart. The question (``POST /providers/kvcsi/explain``, see
``local-wiring.md`` §3.5) names the identity either directly (``{"assignee": client id |
object id | name | managed identity resource id}``) or as a VM would get it from IMDS
(``{"vmId", "clientId"?}``: the scale set's identities and IMDS's real selection rule,
including "Multiple user assigned identities exist" and "Identity not found"). Each object is
then decided by :mod:`kvcsi.cloud.arm.explain`, with the nearest misses
(:mod:`kvcsi.cloud.arm.explain_misses`) when denied.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from kvcsi.cloud import lookups
from kvcsi.cloud.arm import data_actions, directory, explain, explain_misses
from kvcsi.cloud.arm.data_actions import DataOperation
from kvcsi.cloud.arm.explain_inventory import Inventory
from kvcsi.cloud.identity.imds import ImdsError, select_identity
from kvcsi.cloud.store import CloudStore

RBAC_DENIAL = {"status": 403, "code": "Forbidden", "innerCode": "ForbiddenByRbac"}
POLICY_DENIAL = {"status": 403, "code": "Forbidden", "innerCode": "AccessDenied"}


class ExplainError(Exception):
    """A question that cannot be answered (unknown identity, vault or action)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def resolve_assignee(store: CloudStore, assignee: str) -> dict[str, Any]:
    """A principal by object id, client id, name or managed identity resource id."""
    principal = (directory.principal_by_object_id(store, assignee)
                 or directory.principal_by_app_id(store, assignee)
                 or directory.principal_by_name(store, assignee))
    if principal is None and assignee.startswith("/"):
        principal = directory.principal_by_alternative_name(store, assignee)
    if principal is None:
        raise ExplainError(404, "PrincipalNotFound",
                           f"Cannot find user or service principal in graph database for "
                           f"'{assignee}'.")
    return principal


def _operation(action: str | None, object_type: str | None) -> DataOperation:
    """The operation asked about; it must fit the object given (or its absence)."""
    name = action or (data_actions.DEFAULT_OPERATION[object_type] if object_type
                      else "listSecrets")
    found = data_actions.operation(name)
    if found is None:
        raise ExplainError(400, "InvalidAction",
                           f"Unknown action '{name}'. Known actions: "
                           + ", ".join(data_actions.operation_names()))
    if object_type and found.object_type != object_type:
        raise ExplainError(400, "InvalidAction",
                           f"Action '{found.name}' applies to {found.object_type}s, not to "
                           f"the {object_type} given.")
    if found.needs_object and not object_type:
        raise ExplainError(400, "InvalidAction",
                           f"Action '{found.name}' acts on one {found.object_type}: name it "
                           f"(--{found.object_type} NAME).")
    return found


@dataclass(frozen=True)
class SelectedIdentity:
    principal: dict[str, Any] | None
    steps: list[str]
    error: dict[str, Any] | None = None


def _vm_identity(store: CloudStore, inventory: Inventory, vm_id: str,
                 client_id: str | None) -> tuple[SelectedIdentity, list[dict[str, Any]]]:
    found = lookups.vm_by_vm_id(store, vm_id)
    if found is None:
        raise ExplainError(404, "VmNotFound", f"No VM with vmId '{vm_id}' in the local cloud.")
    vm, vmss = found
    identities = directory.identities_of_vmss(vmss, store)
    attached = [{"kind": i.kind, "objectId": i.principal_id, "clientId": i.client_id,
                 "resourceId": i.resource_id,
                 "name": inventory.describe_identity(i.principal_id)} for i in identities]
    names = "; ".join(f"{a['kind']} {a['name']} (client id {a['clientId']})"
                      for a in attached) or "none"
    steps = [f"node VM '{vm.get('name', vm_id)}' belongs to scale set '{vmss['name']}', whose "
             f"identities are: {names}"]
    request = (f"IMDS token request with client_id={client_id}" if client_id
               else "IMDS token request without client_id (userAssignedIdentityID is empty)")
    try:
        chosen = select_identity(SimpleNamespace(store=store), vmss, client_id=client_id,
                                 object_id=None, msi_res_id=None)
    except ImdsError as error:
        steps.append(f"{request}: IMDS answers {error.status} {error.error}: "
                     f"{error.description}")
        return SelectedIdentity(None, steps, {"status": error.status, "error": error.error,
                                              "error_description": error.description}), attached
    rule = ("the identity with that client id" if client_id else
            "the system-assigned identity (IMDS prefers it whenever one is attached)"
            if chosen.resource_id.lower() == vmss["id"].lower() else
            "the only user-assigned identity")
    steps.append(f"{request}: IMDS returns {rule}: "
                 f"{inventory.describe_identity(str(chosen.principal['id']))}")
    return SelectedIdentity(chosen.principal, steps), attached


def _identity_view(principal: dict[str, Any], inventory: Inventory) -> dict[str, Any]:
    return {"objectId": principal["id"], "clientId": principal.get("appId", ""),
            "displayName": principal.get("displayName", ""),
            "type": principal.get("servicePrincipalType", ""),
            "role": inventory.identity_role(principal["id"])}


def _check(store: CloudStore, inventory: Inventory, vault: dict[str, Any],
           principal_id: str, operation: DataOperation, obj: dict[str, str] | None
           ) -> dict[str, Any]:
    name = obj.get("name") if obj else None
    decision = explain.decide(store, vault, principal_id, operation, name)
    check: dict[str, Any] = {
        "object": obj, "action": operation.name, "dataAction": operation.data_action,
        "permission": operation.describe_permission(),
        "resource": data_actions.object_resource_id(vault["id"], operation.object_type, name),
        "allowed": decision.allowed,
        "grantedBy": decision.grant.document() if decision.grant else None,
    }
    if decision.allowed:
        check["expectedResponse"] = {"status": 200}
        check["nearestMisses"] = []
    else:
        check["expectedResponse"] = RBAC_DENIAL if explain.uses_rbac(vault) else POLICY_DENIAL
        check["nearestMisses"] = [m.document() for m in explain_misses.nearest_misses(
            store, vault, principal_id, operation, name, inventory)]
    return check


def _objects(question: dict[str, Any]) -> list[dict[str, str] | None]:
    objects = question.get("objects") or []
    for obj in objects:
        if obj.get("type") not in data_actions.OBJECT_TYPES or not obj.get("name"):
            raise ExplainError(400, "InvalidObject",
                               "Each object needs a 'type' (secret, key or certificate) and "
                               "a 'name'.")
    return list(objects) or [None]


def answer(store: CloudStore, question: dict[str, Any]) -> dict[str, Any]:
    """The explanation document for one question (see the module docstring)."""
    vault_name = str(question.get("vault") or "")
    vault = lookups.vault_by_name(store, vault_name) if vault_name else None
    if vault is None:
        known = lookups.vault_names(store)
        close = difflib.get_close_matches(vault_name.lower(), [n.lower() for n in known], n=1)
        suggestion = next((f" (did you mean '{n}'?)" for n in known
                           if close and n.lower() == close[0]), "")
        listing = f" Vaults: {', '.join(known)}." if known else " There are no vaults yet."
        raise ExplainError(404, "VaultNotFound",
                           f"The vault '{vault_name}' does not exist in the local cloud"
                           f"{suggestion}.{listing}")
    identity = question.get("identity") or {}
    objects = _objects(question)
    operations = [_operation(question.get("action"), obj["type"] if obj else None)
                  for obj in objects]
    inventory = Inventory.load(store)
    result: dict[str, Any] = {
        "vault": {"name": vault["name"], "id": vault["id"],
                  "permissionModel": explain.permission_model(vault)},
    }
    if identity.get("vmId"):
        selected, attached = _vm_identity(store, inventory, str(identity["vmId"]),
                                          identity.get("clientId") or None)
        result["vmIdentities"] = attached
    elif identity.get("assignee"):
        principal = resolve_assignee(store, str(identity["assignee"]))
        selected = SelectedIdentity(principal, [])
    else:
        raise ExplainError(400, "InvalidIdentity",
                           "Name the identity: {'assignee': ...} or {'vmId': ...}.")
    result["steps"] = selected.steps
    if selected.principal is None:
        for candidate in result.get("vmIdentities", []):
            candidate["wouldBeAllowed"] = all(
                explain.decide(store, vault, candidate["objectId"], operation,
                               obj.get("name") if obj else None).allowed
                for operation, obj in zip(operations, objects, strict=True))
        result.update(allowed=False, identity=None, identityError=selected.error, checks=[])
        return result
    principal_id = str(selected.principal["id"])
    checks = [_check(store, inventory, vault, principal_id, operation, obj)
              for operation, obj in zip(operations, objects, strict=True)]
    result.update(allowed=all(c["allowed"] for c in checks),
                  identity=_identity_view(selected.principal, inventory), checks=checks)
    return result
