"""ARM's ``Microsoft.Authorization`` paths: role definitions and role assignments at any scope.

``{scope}/providers/Microsoft.Authorization/roleDefinitions[/{guid}]`` and
``.../roleAssignments[/{guid}]`` with their ``$filter`` forms (``roleName eq '...'``,
``principalId eq '...'``, ``atScope()``); the caller's control-plane RBAC is checked first.
Called by :mod:`kvcsi.cloud.arm.arm_api`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kvcsi.cloud.arm import errors, ids, role_assignments, role_definitions, subscriptions
from kvcsi.cloud.store import CloudStore

if TYPE_CHECKING:
    from kvcsi.cloud.arm.arm_api import ArmRequest, Dispatcher

Result = tuple[int, Any]


def authorization_index(lower: list[str]) -> int | None:
    """Index of ``providers`` in ``.../providers/Microsoft.Authorization/role*``, if any."""
    for index in range(len(lower) - 2):
        if lower[index] == "providers" and lower[index + 1] == "microsoft.authorization" \
                and lower[index + 2] in ("roleassignments", "roledefinitions") \
                and len(lower) <= index + 4:
            return index
    return None


def handle(d: Dispatcher, request: ArmRequest, parts: list[str], index: int) -> Result:
    scope = "/" + "/".join(parts[:index])
    collection = parts[index + 2].lower()
    name = parts[index + 3] if len(parts) > index + 3 else None
    subscription_id = ids.subscription_of(scope)
    if collection == "roledefinitions":
        if request.method != "GET":
            raise errors.method_not_allowed(request.method)
        d.require(request, "Microsoft.Authorization/roleDefinitions/read", scope)
        sub = subscription_id or _default_subscription(d.store)
        if name is not None:
            return 200, role_definitions.get(d.store, sub, name)
        filters = parse_filters(request.query.get("$filter", ""))
        return 200, {"value": role_definitions.list_definitions(
            d.store, sub, role_name=filters.get("rolename"),
            role_type=filters.get("type"))}
    if name is None:
        if request.method != "GET":
            raise errors.method_not_allowed(request.method)
        d.require(request, "Microsoft.Authorization/roleAssignments/read", scope)
        filters = parse_filters(request.query.get("$filter", ""))
        principal = filters.get("principalid") or filters.get("assignedto")
        return 200, {"value": role_assignments.list_for_scope(
            d.store, scope, principal_id=principal, at_scope="atscope" in filters)}
    if request.method == "PUT":
        d.require(request, "Microsoft.Authorization/roleAssignments/write", scope)
        assignment, created = role_assignments.create(
            d.store, scope, name, (request.body or {}).get("properties") or {},
            created_by=request.principal_id)
        return (201 if created else 200), assignment
    if request.method == "GET":
        d.require(request, "Microsoft.Authorization/roleAssignments/read", scope)
        return 200, role_assignments.get(d.store, scope, name)
    if request.method == "DELETE":
        d.require(request, "Microsoft.Authorization/roleAssignments/delete", scope)
        deleted = role_assignments.delete(d.store, scope, name)
        return (200, deleted) if deleted else (204, None)
    raise errors.method_not_allowed(request.method)


_FILTER_TERM = re.compile(
    r"^\s*(?:(?P<field>\w+)\s+eq\s+'(?P<value>[^']*)'|(?P<func>\w+)\((?:'(?P<arg>[^']*)')?\))\s*$",
    re.IGNORECASE)


def parse_filters(expression: str) -> dict[str, str]:
    """``principalId eq 'x' and atScope()`` → ``{"principalid": "x", "atscope": ""}``."""
    found: dict[str, str] = {}
    if not expression.strip():
        return found
    for term in re.split(r"\s+and\s+", expression, flags=re.IGNORECASE):
        match = _FILTER_TERM.match(term)
        if match is None:
            raise errors.ArmError(400, "InvalidFilterInQueryString",
                                  f"The filter '{expression}' is not supported.")
        if match.group("field"):
            found[match.group("field").lower()] = match.group("value")
        else:
            found[match.group("func").lower()] = match.group("arg") or ""
    return found


def _default_subscription(store: CloudStore) -> str:
    existing = subscriptions.all_subscriptions(store)
    return existing[0]["subscriptionId"] if existing else "00000000-0000-0000-0000-000000000000"
