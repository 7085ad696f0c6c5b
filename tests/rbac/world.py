"""A small Azure world for RBAC tests: vaults, identities, scale sets and role assignments
written straight into a cloud store in the contract's shapes (``local-wiring.md`` §3.1)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from support.local_cloud import CloudSeed

from kvcsi.cloud.arm import rbac, roles
from kvcsi.cloud.arm.roles import BuiltInRole
from kvcsi.cloud.store import CloudStore

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION_ID = "0b1f6471-1bf0-4dda-aec3-111122223333"


def offline_seed(home: Path) -> CloudSeed:
    """A seed over a fresh store, without a running cloud (for the pure decision tests)."""
    store = CloudStore(home / "state.db")
    return CloudSeed(store, {"tenant_id": TENANT_ID, "subscription_id": SUBSCRIPTION_ID,
                             "keyvault_dns_suffix": "vault.localhost:8443",
                             "imds_base": "http://127.0.0.1:8480/vms"})


def assign(seed: CloudSeed, principal_id: str, role: BuiltInRole, scope: str
           ) -> dict[str, Any]:
    """A role assignment of ``role`` to ``principal_id`` at ``scope``."""
    name = str(uuid.uuid4())
    assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    document = {
        "id": assignment_id, "name": name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": roles.role_definition_id(seed.subscription_id, role.guid),
            "principalId": principal_id, "principalType": "ServicePrincipal", "scope": scope,
        },
    }
    seed.store.put("arm", assignment_id.lower(), document,
                   parent=rbac.assignments_collection(scope))
    return document


def policy(principal_id: str, tenant_id: str, secrets: list[str] | None = None,
           keys: list[str] | None = None, certificates: list[str] | None = None
           ) -> dict[str, Any]:
    return {"tenantId": tenant_id, "objectId": principal_id,
            "permissions": {"secrets": secrets or [], "keys": keys or [],
                            "certificates": certificates or []}}


def attach(seed: CloudSeed, vmss: dict[str, Any], *, identity: dict[str, Any] | None = None,
           system_assigned: bool = False) -> dict[str, Any] | None:
    """``az vmss identity assign``: another user-assigned identity, or the system one."""
    block = dict(vmss.get("identity") or {})
    added = None
    if identity is not None:
        users = dict(block.get("userAssignedIdentities") or {})
        users[identity["id"]] = {"principalId": identity["properties"]["principalId"],
                                 "clientId": identity["properties"]["clientId"]}
        block["userAssignedIdentities"] = users
    if system_assigned:
        added = seed.principal(vmss["name"], managed_identity_of=vmss["id"])
        block.update(principalId=added["id"], tenantId=seed.tenant_id)
    kinds = (["SystemAssigned"] if block.get("principalId") else []) + (
        ["UserAssigned"] if block.get("userAssignedIdentities") else [])
    block["type"] = ", ".join(kinds)
    vmss["identity"] = block
    seed.store.put("arm", vmss["id"].lower(), vmss,
                   parent=vmss["id"].rsplit("/providers/", 1)[0].lower())
    return added
