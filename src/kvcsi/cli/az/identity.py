"""``az identity``: user-assigned managed identities (create, show, list, delete) and their
federated credentials (``identity federated-credential create|show|list|delete``).

Upstream counterpart: ``az identity`` over Microsoft.ManagedIdentity
``userAssignedIdentities`` and ``.../federatedIdentityCredentials`` (both models flatten
``properties``).
"""

from __future__ import annotations

import argparse
from typing import Any

from kvcsi.cli.az.confirm import confirm
from kvcsi.cli.az.groups import get_group
from kvcsi.cli.az.ids import flatten, parse_tags, provider_id
from kvcsi.cli.session import ARM_API_VERSIONS, Session

_MSI_API = ARM_API_VERSIONS["Microsoft.ManagedIdentity"]
_IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"


def _path(session: Session, resource_group: str, name: str) -> str:
    return provider_id(session.subscription_id, resource_group, _IDENTITY_TYPE, name)


def identity_create(session: Session, args: argparse.Namespace) -> Any:
    location = args.location or get_group(session, args.resource_group)["location"]
    body: dict[str, Any] = {"location": location}
    tags = parse_tags(args.tags)
    if tags is not None:
        body["tags"] = tags
    return flatten(session.arm_call("PUT", _path(session, args.resource_group, args.name),
                                    _MSI_API, body))


def identity_show(session: Session, args: argparse.Namespace) -> Any:
    return flatten(session.arm_call("GET", _path(session, args.resource_group, args.name),
                                    _MSI_API))


def identity_list(session: Session, args: argparse.Namespace) -> Any:
    scope = f"/subscriptions/{session.subscription_id}"
    if args.resource_group:
        scope += f"/resourceGroups/{args.resource_group}"
    page = session.arm_call("GET", f"{scope}/providers/{_IDENTITY_TYPE}", _MSI_API)
    return [flatten(identity) for identity in page.get("value", [])]


def identity_delete(session: Session, args: argparse.Namespace) -> Any:
    session.arm_call("DELETE", _path(session, args.resource_group, args.name), _MSI_API)
    return None


def _credentials_path(session: Session, args: argparse.Namespace) -> str:
    return (f"{_path(session, args.resource_group, args.identity_name)}"
            "/federatedIdentityCredentials")


def credential_create(session: Session, args: argparse.Namespace) -> Any:
    body = {"properties": {"issuer": args.issuer, "subject": args.subject,
                           "audiences": args.audiences or [DEFAULT_AUDIENCE]}}
    return flatten(session.arm_call("PUT", f"{_credentials_path(session, args)}/{args.name}",
                                    _MSI_API, body))


def credential_show(session: Session, args: argparse.Namespace) -> Any:
    return flatten(session.arm_call("GET", f"{_credentials_path(session, args)}/{args.name}",
                                    _MSI_API))


def credential_list(session: Session, args: argparse.Namespace) -> Any:
    page = session.arm_call("GET", _credentials_path(session, args), _MSI_API)
    return [flatten(credential) for credential in page.get("value", [])]


def credential_delete(session: Session, args: argparse.Namespace) -> Any:
    confirm(args.yes)
    session.arm_call("DELETE", f"{_credentials_path(session, args)}/{args.name}", _MSI_API)
    return None


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    identity = commands.add_parser("identity", help="managed identities").add_subparsers(
        dest="verb", required=True)

    def named(parent: argparse._SubParsersAction, verb: str, handler: Any
              ) -> argparse.ArgumentParser:
        parser = parent.add_parser(verb, parents=[common])
        parser.add_argument("--resource-group", "-g", required=True)
        parser.add_argument("--name", "-n", required=True)
        parser.set_defaults(handler=handler)
        return parser

    create = named(identity, "create", identity_create)
    create.add_argument("--location", "-l")
    create.add_argument("--tags", nargs="*")
    named(identity, "show", identity_show)
    named(identity, "delete", identity_delete)
    listing = identity.add_parser("list", parents=[common])
    listing.add_argument("--resource-group", "-g")
    listing.set_defaults(handler=identity_list)

    federated = identity.add_parser("federated-credential",
                                    help="federated identity credentials").add_subparsers(
        dest="credential_verb", required=True)
    for verb, handler in (("create", credential_create), ("show", credential_show),
                          ("delete", credential_delete)):
        parser = named(federated, verb, handler)
        parser.add_argument("--identity-name", required=True)
        if verb == "create":
            parser.add_argument("--issuer", required=True)
            parser.add_argument("--subject", required=True)
            parser.add_argument("--audiences", nargs="+")
        if verb == "delete":
            parser.add_argument("--yes", "-y", action="store_true")
    listing = federated.add_parser("list", parents=[common])
    listing.add_argument("--resource-group", "-g", required=True)
    listing.add_argument("--identity-name", required=True)
    listing.set_defaults(handler=credential_list)
