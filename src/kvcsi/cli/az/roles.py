"""``az role assignment`` (create, list, delete) and ``az role definition list``.

Upstream counterpart: ``az role``. Assignees are resolved as az resolves them
(:mod:`kvcsi.cli.az.principals`); roles by name or GUID through the role definitions at the
scope. ``list`` follows az's search: without ``--all`` the scope defaults to the subscription
and only assignments made exactly at the scope are shown (``--include-inherited`` adds the
ones above it); ``--all`` lists every assignment in the subscription.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from kvcsi.cli.az.ids import GUID, flatten, resource_group_id
from kvcsi.cli.az.principals import display_names, resolve_assignee
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_AUTH_API = ARM_API_VERSIONS["Microsoft.Authorization"]
_ASSIGNMENTS = "providers/Microsoft.Authorization/roleAssignments"
_DEFINITIONS = "providers/Microsoft.Authorization/roleDefinitions"
_DEFINITION_RENAMES = {"type": "roleType"}


def resolve_role(session: Session, role: str, scope: str) -> dict[str, Any]:
    """A role definition by GUID, full id or name, as az resolves ``--role``."""
    path = f"{scope}/{_DEFINITIONS}"
    guid = role.rsplit("/", 1)[-1]
    if GUID.match(guid):
        return dict(session.arm_call("GET", f"{path}/{guid}", _AUTH_API))
    found = session.arm_call("GET", path, _AUTH_API,
                             params={"$filter": f"roleName eq '{role}'"}).get("value", [])
    if not found:
        raise AzError("", f"Role '{role}' doesn't exist.")
    return dict(found[0])


def _scope(session: Session, args: argparse.Namespace) -> str:
    if getattr(args, "resource_group", None) and args.scope:
        raise AzError("", f'Resource group "{args.resource_group}" is redundant because scope '
                          "is supplied")
    if getattr(args, "resource_group", None):
        return resource_group_id(session.subscription_id, args.resource_group)
    return (args.scope or f"/subscriptions/{session.subscription_id}").rstrip("/")


def assignment_create(session: Session, args: argparse.Namespace) -> Any:
    scope = _scope(session, args)
    if args.assignee_object_id:
        principal_id = args.assignee_object_id
    elif args.assignee:
        principal_id = resolve_assignee(session, args.assignee)["id"]
    else:
        raise AzError("", "usage error: --assignee STRING | --assignee-object-id GUID",
                      exit_code=2)
    role = resolve_role(session, args.role, scope)
    properties: dict[str, Any] = {"roleDefinitionId": role["id"], "principalId": principal_id}
    if args.assignee_principal_type:
        properties["principalType"] = args.assignee_principal_type
    if args.description:
        properties["description"] = args.description
    path = f"{scope}/{_ASSIGNMENTS}/{args.name or uuid.uuid4()}"
    return flatten(session.arm_call("PUT", path, _AUTH_API, {"properties": properties}))


def _role_names(session: Session) -> dict[str, str]:
    definitions = session.arm_call(
        "GET", f"/subscriptions/{session.subscription_id}/{_DEFINITIONS}", _AUTH_API)
    return {d["name"].lower(): d["properties"]["roleName"] for d in definitions.get("value", [])}


def search_assignments(session: Session, scope: str | None, assignee: str | None,
                       role: str | None, include_inherited: bool) -> list[dict[str, Any]]:
    """az's ``_search_role_assignments`` over ARM."""
    principal_id = resolve_assignee(session, assignee)["id"] if assignee else None
    subscription = f"/subscriptions/{session.subscription_id}"
    if scope:
        found = session.arm_call("GET", f"{scope}/{_ASSIGNMENTS}", _AUTH_API,
                                 params={"$filter": "atScope()"}).get("value", [])
        found = [a for a in found
                 if a["properties"]["scope"].lower() == scope.lower()
                 or (include_inherited
                     and scope.lower().startswith(a["properties"]["scope"].lower()))]
    else:
        params = {"$filter": f"principalId eq '{principal_id}'"} if principal_id else None
        found = session.arm_call("GET", f"{subscription}/{_ASSIGNMENTS}", _AUTH_API,
                                 params=params).get("value", [])
    if role:
        wanted = resolve_role(session, role, scope or subscription)["name"].lower()
        found = [a for a in found if a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1]
                 .lower() == wanted]
    if principal_id:
        found = [a for a in found if a["properties"]["principalId"].lower()
                 == principal_id.lower()]
    return found


def assignment_list(session: Session, args: argparse.Namespace) -> Any:
    if args.all and (args.scope or args.resource_group):
        raise AzError("", "group or scope are not required when --all is used")
    scope = None if args.all else _scope(session, args)
    found = search_assignments(session, scope, args.assignee, args.role,
                               args.include_inherited)
    roles = _role_names(session)
    names = display_names(session, sorted({a["properties"]["principalId"] for a in found}))
    views = []
    for assignment in found:
        view = flatten(assignment)
        view["principalName"] = names.get(view["principalId"], "")
        view["roleDefinitionName"] = roles.get(
            view["roleDefinitionId"].rsplit("/", 1)[-1].lower(), "")
        views.append(view)
    return views


def assignment_delete(session: Session, args: argparse.Namespace) -> Any:
    if args.ids:
        if args.assignee or args.role or args.resource_group or args.scope:
            raise AzError("", "When assignment ids are used, other parameter values are not "
                              "required")
        for assignment_id in args.ids:
            session.arm_call("DELETE", assignment_id, _AUTH_API)
        return None
    found = search_assignments(session, _scope(session, args), args.assignee, args.role,
                               args.include_inherited)
    if not found:
        sys.stderr.write("WARNING: No matched assignments were found to delete\n")
    for assignment in found:
        session.arm_call("DELETE", assignment["id"], _AUTH_API)
    return None


def definition_list(session: Session, args: argparse.Namespace) -> Any:
    scope = (args.scope or f"/subscriptions/{session.subscription_id}").rstrip("/")
    params: dict[str, str] = {}
    if args.name:
        guid = args.name.rsplit("/", 1)[-1]
        if GUID.match(guid):
            return [flatten(session.arm_call("GET", f"{scope}/{_DEFINITIONS}/{guid}",
                                             _AUTH_API), _DEFINITION_RENAMES)]
        params["$filter"] = f"roleName eq '{args.name}'"
    elif args.custom_role_only:
        params["$filter"] = "type eq 'CustomRole'"
    found = session.arm_call("GET", f"{scope}/{_DEFINITIONS}", _AUTH_API,
                             params=params).get("value", [])
    return [flatten(definition, _DEFINITION_RENAMES) for definition in found]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    role = commands.add_parser("role", help="Azure RBAC").add_subparsers(
        dest="verb", required=True)
    assignment = role.add_parser("assignment").add_subparsers(dest="assignment_verb",
                                                              required=True)
    create = assignment.add_parser("create", parents=[common])
    create.add_argument("--role", required=True)
    create.add_argument("--assignee")
    create.add_argument("--assignee-object-id")
    create.add_argument("--assignee-principal-type",
                        choices=["User", "Group", "ServicePrincipal", "ForeignGroup"])
    create.add_argument("--scope")
    create.add_argument("--resource-group", "-g")
    create.add_argument("--description")
    create.add_argument("--name")
    create.set_defaults(handler=assignment_create)
    for verb, handler in (("list", assignment_list), ("delete", assignment_delete)):
        parser = assignment.add_parser(verb, parents=[common])
        parser.add_argument("--assignee")
        parser.add_argument("--role")
        parser.add_argument("--scope")
        parser.add_argument("--resource-group", "-g")
        parser.add_argument("--include-inherited", action="store_true")
        parser.set_defaults(handler=handler)
        if verb == "list":
            parser.add_argument("--all", action="store_true")
            parser.add_argument("--include-groups", action="store_true")
        else:
            parser.add_argument("--ids", nargs="+")
            parser.add_argument("--yes", "-y", action="store_true")
    definition = role.add_parser("definition").add_subparsers(dest="definition_verb",
                                                              required=True)
    definitions = definition.add_parser("list", parents=[common])
    definitions.add_argument("--name", "-n")
    definitions.add_argument("--scope")
    definitions.add_argument("--custom-role-only", action="store_true")
    definitions.set_defaults(handler=definition_list)
