"""``az vmss``: scale sets (list, show) and their managed identities (``vmss identity
assign|remove|show``).

Upstream counterpart: ``az vmss`` over Microsoft.Compute ``virtualMachineScaleSets`` (the
model flattens ``properties``). Identities are changed with a ``PATCH`` of ``identity``; the
local IMDS of each instance reads what is attached, so selection follows these commands.
``[system]`` names the system-assigned identity; other values are identity resource ids or
names of identities in the scale set's resource group.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from kvcsi.cli.az.ids import flatten, provider_id
from kvcsi.cli.session import ARM_API_VERSIONS, AzError, Session

_COMPUTE_API = ARM_API_VERSIONS["Microsoft.Compute"]
_VMSS_TYPE = "Microsoft.Compute/virtualMachineScaleSets"
_IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
SYSTEM = "[system]"


def _path(session: Session, args: argparse.Namespace) -> str:
    return provider_id(session.subscription_id, args.resource_group, _VMSS_TYPE, args.name)


def vmss_list(session: Session, args: argparse.Namespace) -> Any:
    scope = f"/subscriptions/{session.subscription_id}"
    if args.resource_group:
        scope += f"/resourceGroups/{args.resource_group}"
    page = session.arm_call("GET", f"{scope}/providers/{_VMSS_TYPE}", _COMPUTE_API)
    return [flatten(scale_set) for scale_set in page.get("value", [])]


def vmss_show(session: Session, args: argparse.Namespace) -> Any:
    return flatten(session.arm_call("GET", _path(session, args), _COMPUTE_API))


def _kinds(identity: dict[str, Any] | None) -> set[str]:
    text = (identity or {}).get("type") or "None"
    return {part.strip() for part in text.split(",")} - {"None"}


def _identity_ids(session: Session, args: argparse.Namespace,
                  names: list[str]) -> list[str]:
    found = []
    for name in names:
        if name.startswith("/"):
            found.append(name)
        else:
            found.append(provider_id(session.subscription_id, args.resource_group,
                                     _IDENTITY_TYPE, name))
    return found


def _patch(session: Session, args: argparse.Namespace, kinds: set[str],
           user_assigned: dict[str, Any]) -> dict[str, Any]:
    order = [kind for kind in ("SystemAssigned", "UserAssigned") if kind in kinds]
    identity: dict[str, Any] = {"type": ", ".join(order) or "None"}
    if user_assigned:
        identity["userAssignedIdentities"] = user_assigned
    updated = session.arm_call("PATCH", _path(session, args), _COMPUTE_API,
                               {"identity": identity})
    return updated.get("identity") or {}


def assigned_view(identity: dict[str, Any]) -> dict[str, Any]:
    """What ``az vmss identity assign`` prints."""
    return {
        "systemAssignedIdentity": identity.get("principalId") or "",
        "userAssignedIdentities": {
            resource_id: {"clientId": details.get("clientId"),
                          "principalId": details.get("principalId")}
            for resource_id, details in (identity.get("userAssignedIdentities") or {}).items()
        },
    }


def identity_assign(session: Session, args: argparse.Namespace) -> Any:
    requested = args.identities or [SYSTEM]
    current = session.arm_call("GET", _path(session, args), _COMPUTE_API).get("identity")
    kinds = _kinds(current)
    if SYSTEM in requested:
        kinds.add("SystemAssigned")
    user_ids = _identity_ids(session, args, [i for i in requested if i != SYSTEM])
    if user_ids:
        kinds.add("UserAssigned")
    updated = _patch(session, args, kinds, {resource_id: {} for resource_id in user_ids})
    if args.role or args.scope:
        _assign_role_to_system_identity(session, args, updated)
    return assigned_view(updated)


def _assign_role_to_system_identity(session: Session, args: argparse.Namespace,
                                    identity: dict[str, Any]) -> None:
    """``--role``/``--scope``: az grants the role to the system-assigned identity."""
    from kvcsi.cli.az.roles import resolve_role

    if not (args.role and args.scope):
        raise AzError("", "usage error: --role and --scope must be used together", exit_code=2)
    if not identity.get("principalId"):
        raise AzError("", "usage error: --role/--scope need the system-assigned identity "
                          "('[system]' in --identities)", exit_code=2)
    scope = args.scope.rstrip("/")
    role = resolve_role(session, args.role, scope)
    session.arm_call(
        "PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
        ARM_API_VERSIONS["Microsoft.Authorization"],
        {"properties": {"roleDefinitionId": role["id"], "principalId": identity["principalId"],
                        "principalType": "ServicePrincipal"}})


def identity_remove(session: Session, args: argparse.Namespace) -> Any:
    current = session.arm_call("GET", _path(session, args), _COMPUTE_API).get("identity") or {}
    attached = {rid.lower(): rid for rid in current.get("userAssignedIdentities") or {}}
    requested = args.identities or [SYSTEM, *attached.values()]
    kinds = _kinds(current)
    if SYSTEM in requested:
        if "SystemAssigned" not in kinds:
            raise AzError("", f"System-assigned identity is not assigned to scale set "
                              f"'{args.name}'")
        kinds.discard("SystemAssigned")
    removals: dict[str, Any] = {}
    for resource_id in _identity_ids(session, args, [i for i in requested if i != SYSTEM]):
        if resource_id.lower() not in attached:
            raise AzError("", f"Identity '{resource_id}' is not assigned to scale set "
                              f"'{args.name}'")
        removals[attached[resource_id.lower()]] = None
    if removals and len(removals) == len(attached):
        kinds.discard("UserAssigned")
    updated = _patch(session, args, kinds, removals)
    return updated or None


def identity_show(session: Session, args: argparse.Namespace) -> Any:
    return session.arm_call("GET", _path(session, args), _COMPUTE_API).get("identity")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    vmss = commands.add_parser("vmss", help="virtual machine scale sets").add_subparsers(
        dest="verb", required=True)
    listing = vmss.add_parser("list", parents=[common])
    listing.add_argument("--resource-group", "-g")
    listing.set_defaults(handler=vmss_list)

    def named(parent: argparse._SubParsersAction, verb: str, handler: Any
              ) -> argparse.ArgumentParser:
        parser = parent.add_parser(verb, parents=[common])
        parser.add_argument("--resource-group", "-g", required=True)
        parser.add_argument("--name", "-n", required=True)
        parser.set_defaults(handler=handler)
        return parser

    named(vmss, "show", vmss_show)
    identity = vmss.add_parser("identity", help="managed identities").add_subparsers(
        dest="identity_verb", required=True)
    assign = named(identity, "assign", identity_assign)
    assign.add_argument("--identities", nargs="+")
    assign.add_argument("--role")
    assign.add_argument("--scope")
    remove = named(identity, "remove", identity_remove)
    remove.add_argument("--identities", nargs="+")
    named(identity, "show", identity_show)
