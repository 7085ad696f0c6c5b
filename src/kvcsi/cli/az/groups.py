"""``az group``: resource groups (create, show, list, delete, exists).

Upstream counterpart: ``az group`` over Microsoft.Resources ``resourcegroups``; the model keeps
``properties`` nested and prints ``managedBy`` and ``tags`` as ``null`` when unset.
"""

from __future__ import annotations

import argparse
from typing import Any

from kvcsi.cli import clusters
from kvcsi.cli.az.confirm import confirm
from kvcsi.cli.az.ids import parse_tags, resource_group_id
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_RG_API = ARM_API_VERSIONS["resourcegroups"]


def group_view(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": group["id"],
        "location": group["location"],
        "managedBy": group.get("managedBy"),
        "name": group["name"],
        "properties": group.get("properties") or {"provisioningState": "Succeeded"},
        "tags": group.get("tags") or None,
        "type": group.get("type", "Microsoft.Resources/resourceGroups"),
    }


def get_group(session: Session, name: str) -> dict[str, Any]:
    return session.arm_call("GET", resource_group_id(session.subscription_id, name), _RG_API)


def group_create(session: Session, args: argparse.Namespace) -> Any:
    body: dict[str, Any] = {"location": args.location}
    tags = parse_tags(args.tags)
    if tags is not None:
        body["tags"] = tags
    if args.managed_by:
        body["managedBy"] = args.managed_by
    return group_view(session.arm_call(
        "PUT", resource_group_id(session.subscription_id, args.name), _RG_API, body))


def group_show(session: Session, args: argparse.Namespace) -> Any:
    return group_view(get_group(session, args.name))


def group_list(session: Session, args: argparse.Namespace) -> Any:
    page = session.arm_call("GET", f"/subscriptions/{session.subscription_id}/resourcegroups",
                            _RG_API)
    groups = [group_view(group) for group in page.get("value", [])]
    if args.tag:
        key, _, value = args.tag.partition("=")
        groups = [g for g in groups if key in (g["tags"] or {})
                  and (not value or (g["tags"] or {})[key] == value)]
    return groups


def group_exists(session: Session, args: argparse.Namespace) -> Any:
    try:
        session.arm_call("HEAD", resource_group_id(session.subscription_id, args.name), _RG_API)
    except AzError as error:
        if error.status == 404:
            return False
        raise
    return True


def group_delete(session: Session, args: argparse.Namespace) -> Any:
    confirm(args.yes)
    group_id = resource_group_id(session.subscription_id, args.name)
    session.arm_call("DELETE", group_id, _RG_API)
    clusters.unregister_in_group(session.home, group_id)
    return None


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser("group", help="resource groups").add_subparsers(
        dest="verb", required=True)

    def named(verb: str, handler: Any) -> argparse.ArgumentParser:
        parser = group.add_parser(verb, parents=[common])
        parser.add_argument("--name", "--resource-group", "-n", "-g", dest="name",
                            required=True)
        parser.set_defaults(handler=handler)
        return parser

    create = named("create", group_create)
    create.add_argument("--location", "-l", required=True)
    create.add_argument("--tags", nargs="*")
    create.add_argument("--managed-by")
    named("show", group_show)
    named("exists", group_exists)
    delete = named("delete", group_delete)
    delete.add_argument("--yes", "-y", action="store_true")
    delete.add_argument("--no-wait", action="store_true")
    listing = group.add_parser("list", parents=[common])
    listing.add_argument("--tag")
    listing.set_defaults(handler=group_list)
