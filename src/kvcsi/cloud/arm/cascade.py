"""Deleting resources with what hangs off them, as ARM does.

Deleting a resource group deletes every resource in it; deleting a resource deletes its child
resources and the role assignments made at or below it. Side effects by type: a vault is
soft-deleted (recoverable), a managed identity's service principal is deleted, a scale set's
VMs leave the vmId index and its system-assigned principal goes, and a managed cluster takes
its node resource group and its own identity with it.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.arm import directory, ids, resource_groups, role_assignments, vaults
from kvcsi.cloud.arm.identities import IDENTITY_TYPE
from kvcsi.cloud.arm.managed_clusters import RETURNED_CLUSTER_TYPE
from kvcsi.cloud.arm.vmss import VM_TYPE, VMSS_TYPE
from kvcsi.cloud.store import CloudStore


def delete_resource(store: CloudStore, resource: dict[str, Any]) -> None:
    """Delete one resource (any type) and everything below it."""
    resource_type = resource.get("type", "")
    with store.transaction():
        for child in store.scan("arm", ids.key(resource["id"]) + "/"):
            if child.get("type") == VM_TYPE:
                directory.unindex_vm(store, child["properties"]["vmId"])
            store.delete("arm", ids.key(child["id"]))
        if resource_type == vaults.VAULT_TYPE:
            vaults.soft_delete(store, resource)
            return
        if resource_type == IDENTITY_TYPE:
            directory.delete_principal(store, resource["properties"]["principalId"])
        elif resource_type in (VMSS_TYPE, RETURNED_CLUSTER_TYPE):
            principal_id = (resource.get("identity") or {}).get("principalId")
            if principal_id:
                directory.delete_principal(store, principal_id)
        store.delete("arm", ids.key(resource["id"]))
        if resource_type == RETURNED_CLUSTER_TYPE:
            node_group = resource["properties"].get("nodeResourceGroup")
            subscription_id = ids.subscription_of(resource["id"]) or ""
            if node_group and resource_groups.find(store, subscription_id, node_group):
                delete_resource_group(store, subscription_id, node_group)


def delete_resource_group(store: CloudStore, subscription_id: str, name: str) -> dict[str, Any]:
    """Delete a resource group and its resources; ``ResourceGroupNotFound`` when absent."""
    group = resource_groups.get(store, subscription_id, name)
    with store.transaction():
        for resource in store.children("arm", ids.key(group["id"])):
            delete_resource(store, resource)
        role_assignments.delete_under(store, group["id"])
        store.delete("arm", ids.key(group["id"]))
    return group


def delete_typed(store: CloudStore, subscription_id: str, resource_group: str,
                 provider_type: str, name: str) -> dict[str, Any] | None:
    """``DELETE`` of ``Namespace/type/name`` in a resource group: the deleted resource, or
    None when there was none (ARM answers 204). The resource group must exist."""
    group = resource_groups.get(store, subscription_id, resource_group)
    found = store.get("arm", ids.key(ids.resource_id(subscription_id, group["name"],
                                                     provider_type, name)))
    if found is None or found.get("type", "").lower() != provider_type.lower():
        return None
    delete_resource(store, found)
    return found

