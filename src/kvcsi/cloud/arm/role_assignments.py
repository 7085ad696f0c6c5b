"""Role assignments: create, read, delete and list them at any scope.

Upstream counterpart: Microsoft.Authorization ``roleAssignments``
(``az role assignment create|list|delete``). An assignment is an ``arm`` document keyed by its
lower-cased id ``{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}``; its parent
is ``{scope}/providers/microsoft.authorization/roleassignments`` (lower-cased), which is what
:mod:`kvcsi.cloud.arm.rbac` reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kvcsi.cloud.arm import (
    directory,
    errors,
    ids,
    rbac,
    resource_groups,
    role_definitions,
    subscriptions,
)
from kvcsi.cloud.store import CloudStore

ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def assignment_id(scope: str, name: str) -> str:
    prefix = "" if scope.rstrip("/") == "" else scope.rstrip("/")
    return f"{prefix}/providers/{ROLE_ASSIGNMENT_TYPE}/{name}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def validate_scope(store: CloudStore, scope: str) -> None:
    """The scope must name a subscription, resource group or resource that exists (objects
    below a resource, such as ``.../vaults/v/secrets/s``, are data-plane names and are not
    checked)."""
    subscription_id = ids.subscription_of(scope)
    if subscription_id is None:
        return
    subscriptions.get_subscription(store, subscription_id)
    group_id = ids.resource_group_of(scope)
    if group_id is None:
        return
    group = resource_groups.get(store, subscription_id, ids.segments(group_id)[-1])
    ref = ids.parse_resource(scope)
    if ref is not None:
        top = ids.resource_id(subscription_id, group["name"], ref.provider_type, ref.name)
        if store.get("arm", ids.key(top)) is None:
            raise errors.resource_not_found(ref.provider_type, ref.name, group["name"])


def _principal_type(principal: dict[str, Any]) -> str:
    return "User" if principal.get("servicePrincipalType") == "User" else "ServicePrincipal"


def create(store: CloudStore, scope: str, name: str, properties: dict[str, Any],
           created_by: str | None = None) -> tuple[dict[str, Any], bool]:
    """``PUT`` a role assignment; returns ``(assignment, created)``."""
    validate_scope(store, scope)
    subscription_id = ids.subscription_of(scope) or ""
    _, guid = role_definitions.parse_id(properties.get("roleDefinitionId", ""))
    role_definitions.get(store, subscription_id, guid, status=400)
    principal_id = properties.get("principalId") or ""
    principal = directory.principal_by_object_id(store, principal_id)
    if principal is None:
        raise errors.principal_not_found(principal_id, subscriptions.tenant_of(store,
                                                                               subscription_id))
    actual_type = _principal_type(principal)
    requested_type = properties.get("principalType")
    if requested_type and requested_type != actual_type:
        raise errors.unmatched_principal_type(principal_id, actual_type, requested_type)
    resource_id = assignment_id(scope, name)
    with store.transaction():
        existing = store.get("arm", ids.key(resource_id))
        for other in store.children("arm", rbac.assignments_collection(scope)):
            same = (other["properties"]["principalId"].lower() == principal["id"].lower()
                    and role_definitions.parse_id(other["properties"]["roleDefinitionId"])[1]
                    == guid)
            if same and ids.key(other["id"]) != ids.key(resource_id):
                raise errors.role_assignment_exists()
        if existing is not None:
            if existing["properties"]["principalId"].lower() != principal["id"].lower() or \
                    role_definitions.parse_id(existing["properties"]["roleDefinitionId"])[1] \
                    != guid:
                raise errors.role_assignment_update_not_permitted()
            return existing, False
        now = _now()
        assignment = {
            "id": resource_id,
            "name": name,
            "type": ROLE_ASSIGNMENT_TYPE,
            "properties": {
                "roleDefinitionId": properties["roleDefinitionId"],
                "principalId": principal["id"],
                "principalType": actual_type,
                "scope": scope.rstrip("/") or "/",
                "condition": properties.get("condition"),
                "conditionVersion": properties.get("conditionVersion"),
                "description": properties.get("description"),
                "createdOn": now,
                "updatedOn": now,
                "createdBy": created_by,
                "updatedBy": created_by,
                "delegatedManagedIdentityResourceId": None,
            },
        }
        store.put("arm", ids.key(resource_id), assignment,
                  parent=rbac.assignments_collection(scope))
    return assignment, True


def get(store: CloudStore, scope: str, name: str) -> dict[str, Any]:
    found = store.get("arm", ids.key(assignment_id(scope, name)))
    if found is None:
        raise errors.role_assignment_not_found(name)
    return found


def delete(store: CloudStore, scope: str, name: str) -> dict[str, Any] | None:
    """Remove an assignment; returns it, or None when there was none."""
    found = store.get("arm", ids.key(assignment_id(scope, name)))
    if found is not None:
        store.delete("arm", ids.key(found["id"]))
    return found


def _all_under(store: CloudStore, scope: str) -> list[dict[str, Any]]:
    prefix = ids.key(scope)
    return [doc for doc in store.scan("arm", prefix + "/" if prefix not in ("", "/") else "/")
            if doc.get("type") == ROLE_ASSIGNMENT_TYPE]


def list_for_scope(store: CloudStore, scope: str, *, principal_id: str | None = None,
                   at_scope: bool = False) -> list[dict[str, Any]]:
    """Assignments that apply at ``scope`` (at or above it) and, unless ``at_scope``, the ones
    below it; optionally only those of one principal."""
    found: dict[str, dict[str, Any]] = {}
    for ancestor in ids.ancestor_scopes(scope):
        for assignment in store.children("arm", rbac.assignments_collection(ancestor)):
            found[ids.key(assignment["id"])] = assignment
    if not at_scope:
        for assignment in _all_under(store, scope):
            found[ids.key(assignment["id"])] = assignment
    result = sorted(found.values(), key=lambda a: ids.key(a["id"]))
    if principal_id is not None:
        result = [a for a in result
                  if a["properties"]["principalId"].lower() == principal_id.lower()]
    return result


def delete_under(store: CloudStore, scope: str) -> None:
    """Drop every assignment at or below ``scope`` (the scope itself is going away)."""
    for assignment in _all_under(store, scope):
        store.delete("arm", ids.key(assignment["id"]))
