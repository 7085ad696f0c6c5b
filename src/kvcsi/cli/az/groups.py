"""``az group`` and ``az account``: resource groups and the signed-in subscription."""

from __future__ import annotations

import argparse
from typing import Any

from kvcsi.cli.az.ids import resource_group_id
from kvcsi.cli.session import ARM_API_VERSIONS, Session

_RG_API = ARM_API_VERSIONS["resourcegroups"]


def group_create(session: Session, args: argparse.Namespace) -> Any:
    body: dict[str, Any] = {"location": args.location}
    if args.tags:
        body["tags"] = dict(tag.split("=", 1) for tag in args.tags)
    return session.arm_call("PUT", resource_group_id(session.subscription_id, args.name),
                            _RG_API, body)


def group_show(session: Session, args: argparse.Namespace) -> Any:
    return session.arm_call("GET", resource_group_id(session.subscription_id, args.name),
                            _RG_API)


def group_list(session: Session, args: argparse.Namespace) -> Any:
    page = session.arm_call("GET", f"/subscriptions/{session.subscription_id}/resourcegroups",
                            _RG_API)
    return page.get("value", [])


def get_group(session: Session, name: str) -> dict[str, Any]:
    return session.arm_call("GET", resource_group_id(session.subscription_id, name), _RG_API)


def account_show(session: Session, args: argparse.Namespace) -> Any:
    subscription = session.arm_call("GET", f"/subscriptions/{session.subscription_id}",
                                    ARM_API_VERSIONS["subscriptions"])
    return {
        "environmentName": "KvcsiLocal",
        "homeTenantId": subscription.get("tenantId", session.tenant_id),
        "id": subscription.get("subscriptionId", session.subscription_id),
        "isDefault": True,
        "managedByTenants": [],
        "name": subscription.get("displayName"),
        "state": subscription.get("state", "Enabled"),
        "tenantId": subscription.get("tenantId", session.tenant_id),
        "user": {"name": session.home.cli_credential()["clientId"], "type": "servicePrincipal"},
    }


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    group = commands.add_parser("group", help="resource groups").add_subparsers(
        dest="verb", required=True)
    create = group.add_parser("create", parents=[common])
    create.add_argument("--name", "-n", "--resource-group", "-g", dest="name", required=True)
    create.add_argument("--location", "-l", required=True)
    create.add_argument("--tags", nargs="*")
    create.set_defaults(handler=group_create)
    show = group.add_parser("show", parents=[common])
    show.add_argument("--name", "-n", "--resource-group", "-g", dest="name", required=True)
    show.set_defaults(handler=group_show)
    group.add_parser("list", parents=[common]).set_defaults(handler=group_list)

    account = commands.add_parser("account", help="the local subscription").add_subparsers(
        dest="verb", required=True)
    account.add_parser("show", parents=[common]).set_defaults(handler=account_show)
