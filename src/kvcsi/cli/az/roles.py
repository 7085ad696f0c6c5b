"""``az role assignment`` and ``az role definition``: Azure RBAC on the local cloud.

Assignees are resolved as az resolves them (service principal names, then object ids,
through Graph); roles by name or GUID through the role definitions at the scope.
"""

from __future__ import annotations

import argparse
import re
import uuid
from typing import Any

from kvcsi.cli.az.ids import flatten
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_AUTH_API = ARM_API_VERSIONS["Microsoft.Authorization"]
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def resolve_assignee(session: Session, assignee: str) -> dict[str, Any]:
    """The directory object az would pick for ``--assignee``."""
    matches = session.graph.call(
        "GET", "/v1.0/servicePrincipals",
        params={"$filter": f"servicePrincipalNames/any(c:c eq '{assignee}')"},
    ).get("value", [])
    if not matches and _GUID.match(assignee):
        found = session.graph.call("POST", "/v1.0/directoryObjects/getByIds",
                                   body={"ids": [assignee]}).get("value", [])
        matches = found
    if not matches:
        raise AzError(
            "",
            f"Cannot find user or service principal in graph database for '{assignee}'. If "
            "the assignee is an appId, make sure the corresponding service principal is "
            f"created with 'az ad sp create --id {assignee}'.",
        )
    return dict(matches[0])


def resolve_role(session: Session, role: str, scope: str) -> dict[str, Any]:
    path = f"{scope}/providers/Microsoft.Authorization/roleDefinitions"
    if _GUID.match(role):
        return dict(session.arm_call("GET", f"{path}/{role}", _AUTH_API))
    found = session.arm_call("GET", path, _AUTH_API,
                             params={"$filter": f"roleName eq '{role}'"}).get("value", [])
    if not found:
        raise AzError("", f"Role '{role}' doesn't exist.")
    return dict(found[0])


def _default_scope(session: Session) -> str:
    return f"/subscriptions/{session.subscription_id}"


def _view(assignment: dict[str, Any], names: dict[str, str],
          roles: dict[str, str]) -> dict[str, Any]:
    view = flatten(assignment)
    view["principalName"] = names.get(view.get("principalId", ""), "")
    role_guid = str(view.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
    view["roleDefinitionName"] = roles.get(role_guid.lower(), "")
    return view


def assignment_create(session: Session, args: argparse.Namespace) -> Any:
    scope = (args.scope or _default_scope(session)).rstrip("/")
    if args.assignee_object_id:
        principal = {"id": args.assignee_object_id,
                     "servicePrincipalType": args.assignee_principal_type or "ServicePrincipal"}
    elif args.assignee:
        principal = resolve_assignee(session, args.assignee)
    else:
        raise AzError("", "usage error: --assignee STRING | --assignee-object-id GUID",
                      exit_code=2)
    role = resolve_role(session, args.role, scope)
    body = {"properties": {
        "roleDefinitionId": role["id"],
        "principalId": principal["id"],
        "principalType": args.assignee_principal_type or "ServicePrincipal",
    }}
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    created = session.arm_call("PUT", path, _AUTH_API, body)
    return flatten(created)


def assignment_list(session: Session, args: argparse.Namespace) -> Any:
    subscription_scope = _default_scope(session)
    params: dict[str, str] = {}
    if args.assignee:
        params["$filter"] = f"principalId eq '{resolve_assignee(session, args.assignee)['id']}'"
    elif not args.all:
        params["$filter"] = "atScope()"
    scope = (args.scope or subscription_scope).rstrip("/")
    assignments = session.arm_call(
        "GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments", _AUTH_API,
        params=params,
    ).get("value", [])
    if args.scope and not args.all:
        assignments = [a for a in assignments
                       if str(a["properties"].get("scope", "")).lower() == scope.lower()]
    roles = {
        d["name"].lower(): d["properties"]["roleName"]
        for d in session.arm_call(
            "GET", f"{subscription_scope}/providers/Microsoft.Authorization/roleDefinitions",
            _AUTH_API).get("value", [])
    }
    ids = sorted({a["properties"]["principalId"] for a in assignments})
    names: dict[str, str] = {}
    if ids:
        for obj in session.graph.call("POST", "/v1.0/directoryObjects/getByIds",
                                      body={"ids": ids}).get("value", []):
            names[obj["id"]] = (obj.get("servicePrincipalNames") or [obj.get("appId", "")])[0]
    return [_view(a, names, roles) for a in assignments]


def definition_list(session: Session, args: argparse.Namespace) -> Any:
    scope = (args.scope or _default_scope(session)).rstrip("/")
    params = {"$filter": f"roleName eq '{args.name}'"} if args.name else None
    found = session.arm_call("GET", f"{scope}/providers/Microsoft.Authorization/roleDefinitions",
                             _AUTH_API, params=params).get("value", [])
    return [flatten(definition) for definition in found]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    role = commands.add_parser("role", help="Azure RBAC").add_subparsers(
        dest="verb", required=True)
    assignment = role.add_parser("assignment").add_subparsers(dest="assignment_verb",
                                                              required=True)
    create = assignment.add_parser("create", parents=[common])
    create.add_argument("--role", required=True)
    create.add_argument("--assignee")
    create.add_argument("--assignee-object-id")
    create.add_argument("--assignee-principal-type")
    create.add_argument("--scope")
    create.set_defaults(handler=assignment_create)
    listing = assignment.add_parser("list", parents=[common])
    listing.add_argument("--assignee")
    listing.add_argument("--scope")
    listing.add_argument("--all", action="store_true")
    listing.set_defaults(handler=assignment_list)
    definition = role.add_parser("definition").add_subparsers(dest="definition_verb",
                                                              required=True)
    definitions = definition.add_parser("list", parents=[common])
    definitions.add_argument("--name", "-n")
    definitions.add_argument("--scope")
    definitions.set_defaults(handler=definition_list)
