"""``az account``: the signed-in account's subscriptions (show, list, set, alias create).

Upstream counterpart: ``az account`` reads the subscriptions of the signed-in identity
(``GET /subscriptions``, ``GET /tenants``); ``set`` chooses the default one (saved in
``$KVCSI_HOME/az-profile.json``). ``az account alias create`` creates another subscription
(Microsoft.Subscription ``aliases``), which is how more than one is made.
"""

from __future__ import annotations

import argparse
from typing import Any

from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_SUBSCRIPTION_API = ARM_API_VERSIONS["Microsoft.Subscription"]


def _tenants(session: Session) -> dict[str, dict[str, Any]]:
    page = session.arm_call("GET", "/tenants", ARM_API_VERSIONS["subscriptions"])
    return {tenant["tenantId"]: tenant for tenant in page.get("value", [])}


def account_view(session: Session, subscription: dict[str, Any],
                 tenants: dict[str, dict[str, Any]], default_id: str) -> dict[str, Any]:
    tenant_id = subscription.get("tenantId", session.tenant_id)
    tenant = tenants.get(tenant_id, {})
    return {
        "environmentName": "KvcsiLocal",
        "homeTenantId": tenant_id,
        "id": subscription["subscriptionId"],
        "isDefault": subscription["subscriptionId"].lower() == default_id.lower(),
        "managedByTenants": subscription.get("managedByTenants", []),
        "name": subscription.get("displayName"),
        "state": subscription.get("state", "Enabled"),
        "tenantDefaultDomain": tenant.get("defaultDomain"),
        "tenantDisplayName": tenant.get("displayName"),
        "tenantId": tenant_id,
        "user": {"name": session.home.cli_credential()["clientId"], "type": "servicePrincipal"},
    }


def account_show(session: Session, args: argparse.Namespace) -> Any:
    subscription = session.arm_call("GET", f"/subscriptions/{session.subscription_id}",
                                    ARM_API_VERSIONS["subscriptions"])
    return account_view(session, subscription, _tenants(session), subscription["subscriptionId"])


def account_list(session: Session, args: argparse.Namespace) -> Any:
    default_id = session.subscription_id
    tenants = _tenants(session)
    return [account_view(session, subscription, tenants, default_id)
            for subscription in session.subscriptions()]


def account_set(session: Session, args: argparse.Namespace) -> Any:
    wanted = args.subscription_name or args.subscription
    if not wanted:
        raise AzError("", "the following arguments are required: --subscription/-s",
                      exit_code=2)
    session.save_subscription(session.resolve_subscription(wanted)["subscriptionId"])
    return None


def alias_create(session: Session, args: argparse.Namespace) -> Any:
    body = {"properties": {"displayName": args.display_name or args.name,
                           "workload": args.workload,
                           "billingScope": args.billing_scope}}
    return session.arm_call("PUT", f"/providers/Microsoft.Subscription/aliases/{args.name}",
                            _SUBSCRIPTION_API, body)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    account = commands.add_parser("account", help="subscriptions").add_subparsers(
        dest="verb", required=True)
    account.add_parser("show", parents=[common]).set_defaults(handler=account_show)
    listing = account.add_parser("list", parents=[common])
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--refresh", action="store_true")
    listing.set_defaults(handler=account_list)
    set_parser = account.add_parser("set", parents=[common])
    set_parser.add_argument("--name", "-n", "-s", dest="subscription_name")
    set_parser.set_defaults(handler=account_set)
    alias = account.add_parser("alias", help="subscription aliases").add_subparsers(
        dest="alias_verb", required=True)
    create = alias.add_parser("create", parents=[common])
    create.add_argument("--name", "-n", required=True)
    create.add_argument("--display-name")
    create.add_argument("--workload", default="Production",
                        choices=["Production", "DevTest"])
    create.add_argument("--billing-scope")
    create.set_defaults(handler=alias_create)
