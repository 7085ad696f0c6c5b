"""Azure RBAC evaluation: does a principal hold an action at a resource?

Upstream counterpart: Azure's authorization check behind ARM (``actions``) and behind Key Vault's
data plane (``dataActions``). The rules (``azure-protocols.md`` §5.2):

- an assignment applies when its scope is the resource or one of its ancestors, compared
  case-insensitively at path-segment boundaries (subscription, resource group, vault, and for
  Key Vault objects ``.../vaults/{v}/secrets/{name}``);
- a role grants an action when one of its (data)actions matches it, ``*`` matching any run of
  characters, case-insensitively, and none of the same role's not(Data)Actions matches it;
- grants are additive across assignments; there are no deny assignments here.

Role assignments live as ``arm`` documents whose parent is
``{scope}/providers/microsoft.authorization/roleassignments`` (lower-cased), so the check
reads one small collection per ancestor scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kvcsi.cloud.arm import ids, roles
from kvcsi.cloud.store import CloudStore


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    assignment_id: str | None
    reason: str


@lru_cache(maxsize=512)
def _pattern(permission: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in permission.split("*")),
                      re.IGNORECASE)


def action_matches(permission: str, action: str) -> bool:
    """True when a permission entry (``Microsoft.KeyVault/vaults/*/read``) covers ``action``."""
    return _pattern(permission).fullmatch(action) is not None


def grants(permissions: list[dict[str, Any]], action: str, *, data: bool) -> bool:
    """True when one permission block of a role allows ``action`` (its own not-list applies)."""
    allow_key, deny_key = ("dataActions", "notDataActions") if data else ("actions", "notActions")
    for block in permissions:
        if any(action_matches(p, action) for p in block.get(allow_key, [])) and not any(
                action_matches(p, action) for p in block.get(deny_key, [])):
            return True
    return False


def assignments_collection(scope: str) -> str:
    """The store parent of role assignments made at ``scope``."""
    scope_key = ids.key(scope)
    return ("" if scope_key in ("", "/") else scope_key) + ids.ROLE_ASSIGNMENTS_SUFFIX


def role_definition(store: CloudStore, role_definition_id: str) -> dict[str, Any] | None:
    """The stored role definition, or the built-in one with that GUID."""
    stored = store.get("arm", ids.key(role_definition_id))
    if stored is not None:
        return stored
    built_in = roles.built_in_role(ids.segments(role_definition_id)[-1])
    if built_in is None:
        return None
    subscription = ids.subscription_of(role_definition_id) or "00000000-0000-0000-0000-000000000000"
    return roles.role_definition_document(built_in, subscription)


def applicable_assignments(store: CloudStore, principal_ids: Iterable[str],
                           resource_id: str) -> list[dict[str, Any]]:
    """Role assignments of any of ``principal_ids`` at ``resource_id`` or above it."""
    wanted = {principal.lower() for principal in principal_ids}
    found = []
    for scope in ids.ancestor_scopes(resource_id):
        for assignment in store.children("arm", assignments_collection(scope)):
            if assignment["properties"]["principalId"].lower() in wanted:
                found.append(assignment)
    return found


def _check(store: CloudStore, principal_id: str, action: str, resource_id: str,
           group_ids: Iterable[str], *, data: bool) -> AccessDecision:
    principals = [principal_id, *group_ids]
    for assignment in applicable_assignments(store, principals, resource_id):
        definition = role_definition(store, assignment["properties"]["roleDefinitionId"])
        if definition is None:
            continue
        if grants(definition["properties"]["permissions"], action, data=data):
            return AccessDecision(
                True, assignment["id"],
                f"role '{definition['properties']['roleName']}' at scope "
                f"'{assignment['properties']['scope']}' grants '{action}'")
    return AccessDecision(False, None,
                          f"no role assignment of '{principal_id}' grants '{action}' "
                          f"on '{resource_id}'")


def check_data_action(store: CloudStore, principal_id: str, action: str, resource_id: str,
                      group_ids: Iterable[str] = ()) -> AccessDecision:
    """Key Vault's question: may ``principal_id`` perform the data action on the resource?

    ``resource_id`` is the vault id, or the vault id + ``/secrets/{name}`` (object scope).
    ``group_ids`` are the caller's group object ids (the token's ``groups`` claim).
    """
    return _check(store, principal_id, action, resource_id, group_ids, data=True)


def check_action(store: CloudStore, principal_id: str, action: str, resource_id: str,
                 group_ids: Iterable[str] = ()) -> AccessDecision:
    """ARM's question: may ``principal_id`` perform the control-plane action at the scope?"""
    return _check(store, principal_id, action, resource_id, group_ids, data=False)
