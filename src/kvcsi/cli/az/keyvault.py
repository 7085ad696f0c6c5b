"""``az keyvault`` and ``az keyvault secret``: vaults over ARM, secrets over the data plane."""

from __future__ import annotations

import argparse
import base64
from datetime import datetime
from pathlib import Path
from typing import Any

from kvcsi.cli.az.groups import get_group
from kvcsi.cli.az.ids import provider_id
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_KV_API = ARM_API_VERSIONS["Microsoft.KeyVault"]
_VAULT_TYPE = "Microsoft.KeyVault/vaults"


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise AzError("", f"argument value '{text}' is not a valid boolean (true/false)", exit_code=2)


def vault_create(session: Session, args: argparse.Namespace) -> Any:
    location = args.location or get_group(session, args.resource_group)["location"]
    properties: dict[str, Any] = {
        "tenantId": session.tenant_id,
        "sku": {"family": "A", "name": args.sku},
        "enableRbacAuthorization": _parse_bool(args.enable_rbac_authorization),
        "accessPolicies": [],
    }
    vault_id = provider_id(session.subscription_id, args.resource_group, _VAULT_TYPE, args.name)
    return session.arm_call("PUT", vault_id, _KV_API, {"location": location,
                                                       "properties": properties})


def find_vault(session: Session, name: str, resource_group: str | None = None) -> dict[str, Any]:
    if resource_group:
        vault_id = provider_id(session.subscription_id, resource_group, _VAULT_TYPE, name)
        return session.arm_call("GET", vault_id, _KV_API)
    vaults = session.arm_call(
        "GET", f"/subscriptions/{session.subscription_id}/providers/{_VAULT_TYPE}", _KV_API
    ).get("value", [])
    for vault in vaults:
        if vault["name"].lower() == name.lower():
            return vault
    raise AzError("ResourceNotFound",
                  f"The Resource '{_VAULT_TYPE}/{name}' under resource group was not found.",
                  404, exit_code=3)


def vault_show(session: Session, args: argparse.Namespace) -> Any:
    return find_vault(session, args.name, args.resource_group)


def vault_list(session: Session, args: argparse.Namespace) -> Any:
    scope = f"/subscriptions/{session.subscription_id}"
    if args.resource_group:
        scope += f"/resourceGroups/{args.resource_group}"
    return session.arm_call("GET", f"{scope}/providers/{_VAULT_TYPE}", _KV_API).get("value", [])


def vault_url(session: Session, vault_name: str) -> str:
    """``https://{vault}{suffix}`` built from the cloud's DNS suffix, as az builds it."""
    return f"https://{vault_name.lower()}.{session.endpoints['keyvault_dns_suffix']}/"


def _timestamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def secret_bundle(secret: Any, with_value: bool = True) -> dict[str, Any]:
    """The JSON az prints for a secret (its SecretBundle, attribute times as ISO text)."""
    props = secret.properties
    bundle: dict[str, Any] = {
        "attributes": {
            "created": _timestamp(props.created_on),
            "enabled": props.enabled,
            "expires": _timestamp(props.expires_on),
            "notBefore": _timestamp(props.not_before),
            "recoverableDays": props.recoverable_days,
            "recoveryLevel": props.recovery_level,
            "updated": _timestamp(props.updated_on),
        },
        "contentType": props.content_type,
        "id": secret.id if hasattr(secret, "id") else props.id,
        "kid": props.key_id,
        "managed": props.managed,
        "name": props.name,
        "tags": props.tags,
    }
    if with_value:
        bundle["value"] = secret.value
    return bundle


def _read_value(args: argparse.Namespace) -> str:
    if args.value is not None:
        return str(args.value)
    if args.file is None:
        raise AzError("", "usage error: --value VALUE | --file PATH", exit_code=2)
    data = Path(args.file).read_bytes()
    if args.encoding == "base64":
        return base64.b64encode(data).decode("ascii")
    if args.encoding == "hex":
        return data.hex()
    return data.decode(args.encoding)


def secret_set(session: Session, args: argparse.Namespace) -> Any:
    client = session.secret_client(vault_url(session, args.vault_name))
    tags = dict(tag.split("=", 1) for tag in args.tags) if args.tags else None
    secret = client.set_secret(args.name, _read_value(args), content_type=args.content_type,
                               tags=tags)
    return secret_bundle(secret)


def secret_show(session: Session, args: argparse.Namespace) -> Any:
    client = session.secret_client(vault_url(session, args.vault_name))
    return secret_bundle(client.get_secret(args.name, args.version))


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    keyvault = commands.add_parser("keyvault", help="key vaults").add_subparsers(
        dest="verb", required=True)
    create = keyvault.add_parser("create", parents=[common])
    create.add_argument("--name", "-n", required=True)
    create.add_argument("--resource-group", "-g", required=True)
    create.add_argument("--location", "-l")
    create.add_argument("--sku", default="standard")
    create.add_argument("--enable-rbac-authorization", default="true")
    create.set_defaults(handler=vault_create)
    show = keyvault.add_parser("show", parents=[common])
    show.add_argument("--name", "-n", required=True)
    show.add_argument("--resource-group", "-g")
    show.set_defaults(handler=vault_show)
    listing = keyvault.add_parser("list", parents=[common])
    listing.add_argument("--resource-group", "-g")
    listing.set_defaults(handler=vault_list)

    secret = keyvault.add_parser("secret", help="secrets").add_subparsers(
        dest="secret_verb", required=True)
    set_parser = secret.add_parser("set", parents=[common])
    set_parser.add_argument("--vault-name", required=True)
    set_parser.add_argument("--name", "-n", required=True)
    set_parser.add_argument("--value")
    set_parser.add_argument("--file", "-f")
    set_parser.add_argument("--encoding", "-e", default="utf-8",
                            choices=["utf-8", "ascii", "base64", "hex", "utf-16le", "utf-16be"])
    set_parser.add_argument("--content-type")
    set_parser.add_argument("--tags", nargs="*")
    set_parser.set_defaults(handler=secret_set)
    show_secret = secret.add_parser("show", parents=[common])
    show_secret.add_argument("--vault-name", required=True)
    show_secret.add_argument("--name", "-n", required=True)
    show_secret.add_argument("--version")
    show_secret.set_defaults(handler=secret_show)
