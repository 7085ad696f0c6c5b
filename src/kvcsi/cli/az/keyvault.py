"""``az keyvault``: vaults over ARM — create, show, list, update, delete, purge, recover,
list-deleted, set-policy, delete-policy.

Upstream counterpart: ``az keyvault`` over Microsoft.KeyVault ``vaults`` and
``deletedVaults`` (the vault model keeps ``properties`` nested). A vault created with
``--enable-rbac-authorization false`` gets an access policy for the signed-in account, as az
adds one; without ``--resource-group`` a vault is found by name in the subscription, and a
missing one is az's "The Vault '...' not found within subscription." (exit 1, as az).
"""

from __future__ import annotations

import argparse
from typing import Any

from kvcsi.cli.az.groups import get_group
from kvcsi.cli.az.ids import GUID, parse_tags, provider_id, resource_group_of, with_resource_group
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_KV_API = ARM_API_VERSIONS["Microsoft.KeyVault"]
_VAULT_TYPE = "Microsoft.KeyVault/vaults"
SECRET_PERMISSIONS = ["all", "backup", "delete", "get", "list", "purge", "recover", "restore",
                      "set"]
KEY_PERMISSIONS = ["all", "backup", "create", "decrypt", "delete", "encrypt", "get",
                   "getrotationpolicy", "import", "list", "purge", "recover", "release",
                   "restore", "rotate", "setrotationpolicy", "sign", "unwrapKey", "update",
                   "verify", "wrapKey"]
CERTIFICATE_PERMISSIONS = ["all", "backup", "create", "delete", "deleteissuers", "get",
                           "getissuers", "import", "list", "listissuers", "managecontacts",
                           "manageissuers", "purge", "recover", "restore", "setissuers",
                           "update"]
_CREATOR_PERMISSIONS = {
    "keys": ["all"],
    "secrets": ["all"],
    "certificates": ["all"],
    "storage": ["all"],
}


def parse_bool(text: str, flag: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise AzError("", f"argument {flag}: invalid boolean value: '{text}'", exit_code=2)


def vault_view(vault: dict[str, Any]) -> dict[str, Any]:
    return with_resource_group(vault)


def _vault_path(session: Session, resource_group: str, name: str) -> str:
    return provider_id(session.subscription_id, resource_group, _VAULT_TYPE, name)


def find_vault(session: Session, name: str, resource_group: str | None = None) -> dict[str, Any]:
    """The vault by name (and group); az's messages when there is none."""
    if resource_group:
        return session.arm_call("GET", _vault_path(session, resource_group, name), _KV_API)
    vaults = session.arm_call(
        "GET", f"/subscriptions/{session.subscription_id}/providers/{_VAULT_TYPE}", _KV_API
    ).get("value", [])
    for vault in vaults:
        if vault["name"].lower() == name.lower():
            return vault
    raise AzError("", f"The Vault '{name}' not found within subscription.")


def vault_create(session: Session, args: argparse.Namespace) -> Any:
    location = args.location or get_group(session, args.resource_group)["location"]
    rbac = parse_bool(args.enable_rbac_authorization, "--enable-rbac-authorization")
    policies = [] if rbac else [{"tenantId": session.tenant_id,
                                 "objectId": session.account_object_id,
                                 "permissions": dict(_CREATOR_PERMISSIONS)}]
    properties: dict[str, Any] = {
        "tenantId": session.tenant_id,
        "sku": {"family": "A", "name": args.sku},
        "enableRbacAuthorization": rbac,
        "accessPolicies": policies,
        "softDeleteRetentionInDays": args.retention_days,
        "enableSoftDelete": True,
    }
    if args.enable_purge_protection is not None:
        properties["enablePurgeProtection"] = parse_bool(args.enable_purge_protection,
                                                         "--enable-purge-protection")
    body: dict[str, Any] = {"location": location, "properties": properties}
    tags = parse_tags(args.tags)
    if tags is not None:
        body["tags"] = tags
    return vault_view(session.arm_call("PUT", _vault_path(session, args.resource_group,
                                                          args.name), _KV_API, body))


def vault_show(session: Session, args: argparse.Namespace) -> Any:
    return vault_view(find_vault(session, args.name, args.resource_group))


def vault_list(session: Session, args: argparse.Namespace) -> Any:
    scope = f"/subscriptions/{session.subscription_id}"
    if args.resource_group:
        scope += f"/resourceGroups/{args.resource_group}"
    vaults = session.arm_call("GET", f"{scope}/providers/{_VAULT_TYPE}", _KV_API)
    return [vault_view(vault) for vault in vaults.get("value", [])]


def _patch(session: Session, vault: dict[str, Any], properties: dict[str, Any],
           tags: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"properties": properties}
    if tags is not None:
        body["tags"] = tags
    return vault_view(session.arm_call("PATCH", vault["id"], _KV_API, body))


def vault_update(session: Session, args: argparse.Namespace) -> Any:
    vault = find_vault(session, args.name, args.resource_group)
    properties: dict[str, Any] = {}
    if args.enable_rbac_authorization is not None:
        properties["enableRbacAuthorization"] = parse_bool(args.enable_rbac_authorization,
                                                           "--enable-rbac-authorization")
    if args.enable_purge_protection is not None:
        properties["enablePurgeProtection"] = parse_bool(args.enable_purge_protection,
                                                         "--enable-purge-protection")
    if args.retention_days is not None:
        properties["softDeleteRetentionInDays"] = args.retention_days
    if args.public_network_access is not None:
        properties["publicNetworkAccess"] = args.public_network_access
    return _patch(session, vault, properties, parse_tags(args.tags))


def vault_delete(session: Session, args: argparse.Namespace) -> Any:
    vault = find_vault(session, args.name, args.resource_group)
    session.arm_call("DELETE", vault["id"], _KV_API)
    return None


def _deleted(session: Session) -> list[dict[str, Any]]:
    return list(session.arm_call(
        "GET", f"/subscriptions/{session.subscription_id}/providers/Microsoft.KeyVault/"
               "deletedVaults", _KV_API).get("value", []))


def vault_list_deleted(session: Session, args: argparse.Namespace) -> Any:
    return _deleted(session)


def _deleted_vault(session: Session, name: str, location: str | None) -> dict[str, Any]:
    if location:
        return session.arm_call(
            "GET", f"/subscriptions/{session.subscription_id}/providers/Microsoft.KeyVault/"
                   f"locations/{location}/deletedVaults/{name}", _KV_API)
    for record in _deleted(session):
        if record["name"].lower() == name.lower():
            return record
    raise AzError("", f"No deleted Vault or HSM was found with name '{name}'")


def vault_purge(session: Session, args: argparse.Namespace) -> Any:
    record = _deleted_vault(session, args.name, args.location)
    session.arm_call(
        "POST", f"/subscriptions/{session.subscription_id}/providers/Microsoft.KeyVault/"
                f"locations/{record['properties']['location']}/deletedVaults/"
                f"{record['name']}/purge", _KV_API)
    return None


def vault_recover(session: Session, args: argparse.Namespace) -> Any:
    record = _deleted_vault(session, args.name, args.location)
    vault_id = record["properties"]["vaultId"]
    group = args.resource_group or resource_group_of(vault_id) or ""
    body = {"location": record["properties"]["location"],
            "properties": {"tenantId": session.tenant_id, "createMode": "recover",
                           "sku": {"family": "A", "name": "standard"}}}
    return vault_view(session.arm_call("PUT", _vault_path(session, group, record["name"]),
                                       _KV_API, body))


def _policy_object_id(session: Session, args: argparse.Namespace) -> str:
    if args.object_id:
        return str(args.object_id)
    if args.spn:
        from kvcsi.cli.az.principals import resolve_assignee

        return str(resolve_assignee(session, args.spn)["id"])
    raise AzError("", "incorrect usage: --object-id ID | --spn SPN | --upn UPN", exit_code=2)


def vault_set_policy(session: Session, args: argparse.Namespace) -> Any:
    vault = find_vault(session, args.name, args.resource_group)
    object_id = _policy_object_id(session, args)
    policies = list(vault["properties"].get("accessPolicies") or [])
    current = next((p for p in policies if p["objectId"].lower() == object_id.lower()), None)
    if current is None:
        current = {"tenantId": vault["properties"]["tenantId"], "objectId": object_id,
                   "permissions": {}}
        policies.append(current)
    for kind in ("keys", "secrets", "certificates", "storage"):
        requested = getattr(args, f"{kind.rstrip('s')}_permissions")
        if requested is not None:
            current["permissions"][kind] = requested
    return _patch(session, vault, {"accessPolicies": policies})


def vault_delete_policy(session: Session, args: argparse.Namespace) -> Any:
    vault = find_vault(session, args.name, args.resource_group)
    object_id = _policy_object_id(session, args)
    policies = [p for p in vault["properties"].get("accessPolicies") or []
                if p["objectId"].lower() != object_id.lower()]
    return _patch(session, vault, {"accessPolicies": policies})


def vault_url(session: Session, vault_name: str) -> str:
    """``https://{vault}.{suffix}/`` from the cloud's DNS suffix, as az builds it."""
    return f"https://{vault_name.lower()}.{session.endpoints['keyvault_dns_suffix']}/"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser
             ) -> argparse._SubParsersAction:
    keyvault = commands.add_parser("keyvault", help="key vaults").add_subparsers(
        dest="verb", required=True)

    def vault_parser(verb: str, handler: Any, group_required: bool = False
                     ) -> argparse.ArgumentParser:
        parser = keyvault.add_parser(verb, parents=[common])
        parser.add_argument("--name", "-n", required=True)
        parser.add_argument("--resource-group", "-g", required=group_required)
        parser.set_defaults(handler=handler)
        return parser

    create = vault_parser("create", vault_create, group_required=True)
    create.add_argument("--location", "-l")
    create.add_argument("--sku", default="standard", type=str.lower,
                        choices=["standard", "premium"])
    create.add_argument("--enable-rbac-authorization", default="true")
    create.add_argument("--enable-purge-protection")
    create.add_argument("--retention-days", type=int, default=90)
    create.add_argument("--tags", nargs="*")
    vault_parser("show", vault_show)
    update = vault_parser("update", vault_update)
    update.add_argument("--enable-rbac-authorization")
    update.add_argument("--enable-purge-protection")
    update.add_argument("--retention-days", type=int)
    update.add_argument("--public-network-access", choices=["Enabled", "Disabled"])
    update.add_argument("--tags", nargs="*")
    vault_parser("delete", vault_delete)
    for verb, handler in (("purge", vault_purge), ("recover", vault_recover)):
        parser = vault_parser(verb, handler)
        parser.add_argument("--location", "-l")
        parser.add_argument("--no-wait", action="store_true")
    for verb, handler in (("set-policy", vault_set_policy),
                          ("delete-policy", vault_delete_policy)):
        parser = vault_parser(verb, handler)
        parser.add_argument("--object-id", type=_guid)
        parser.add_argument("--spn")
        parser.add_argument("--upn")
        if verb == "set-policy":
            parser.add_argument("--secret-permissions", nargs="+", choices=SECRET_PERMISSIONS)
            parser.add_argument("--key-permissions", nargs="+", choices=KEY_PERMISSIONS)
            parser.add_argument("--certificate-permissions", nargs="+",
                                choices=CERTIFICATE_PERMISSIONS)
            parser.add_argument("--storage-permissions", nargs="+")
    listing = keyvault.add_parser("list", parents=[common])
    listing.add_argument("--resource-group", "-g")
    listing.set_defaults(handler=vault_list)
    keyvault.add_parser("list-deleted", parents=[common]).set_defaults(
        handler=vault_list_deleted)
    return keyvault


def _guid(text: str) -> str:
    if not GUID.match(text):
        raise argparse.ArgumentTypeError(f"invalid GUID value: '{text}'")
    return text
