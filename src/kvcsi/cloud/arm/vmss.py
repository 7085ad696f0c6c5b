"""Virtual machine scale sets and their VMs, as AKS node pools make them, and their
managed identities.

Upstream counterpart: Microsoft.Compute ``virtualMachineScaleSets`` and
``virtualMachineScaleSets/virtualMachines`` (``az vmss show|list|list-instances``,
``az vmss identity assign|remove``). A VM is an ``arm`` document whose parent is its scale
set, with ``instanceId``, ``name`` = ``{vmss}_{i}``, ``properties.vmId`` and
``properties.osProfile.computerName`` = ``{vmss}{i:06d}`` (the node name); every VM is also
indexed by vmId for IMDS (:mod:`kvcsi.cloud.arm.directory`).
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.arm import directory, errors, identities, ids, resource_groups, subscriptions
from kvcsi.cloud.store import CloudStore

VMSS_TYPE = "Microsoft.Compute/virtualMachineScaleSets"
VM_TYPE = directory.VMSS_VM_TYPE


def vmss_id(subscription_id: str, resource_group: str, name: str) -> str:
    return ids.resource_id(subscription_id, resource_group, VMSS_TYPE, name)


def get(store: CloudStore, subscription_id: str, resource_group: str,
        name: str) -> dict[str, Any]:
    group = resource_groups.get(store, subscription_id, resource_group)
    found = store.get("arm", ids.key(vmss_id(subscription_id, group["name"], name)))
    if found is None or found["type"] != VMSS_TYPE:
        raise errors.resource_not_found(VMSS_TYPE, name, resource_group)
    return found


def vms_of(store: CloudStore, scale_set: dict[str, Any]) -> list[dict[str, Any]]:
    """The scale set's VMs in instance order."""
    return store.children("arm", ids.key(scale_set["id"]))


def _save(store: CloudStore, scale_set: dict[str, Any]) -> None:
    store.put("arm", ids.key(scale_set["id"]), scale_set,
              parent=ids.key(ids.resource_group_of(scale_set["id"]) or ""))


def _vm_document(scale_set: dict[str, Any], instance: int) -> dict[str, Any]:
    name = scale_set["name"]
    return {
        "id": f"{scale_set['id']}/virtualMachines/{instance}",
        "instanceId": str(instance),
        "name": f"{name}_{instance}",
        "type": VM_TYPE,
        "location": scale_set["location"],
        "sku": {"name": scale_set["sku"]["name"], "tier": "Standard"},
        "properties": {
            "vmId": directory.new_guid(),
            "latestModelApplied": True,
            "provisioningState": "Succeeded",
            "hardwareProfile": {"vmSize": scale_set["sku"]["name"]},
            "osProfile": {"computerName": f"{name}{instance:06d}", "adminUsername": "azureuser"},
        },
    }


def create_scale_set(store: CloudStore, *, subscription_id: str, resource_group: str,
                     name: str, location: str, vm_size: str, capacity: int,
                     user_assigned_ids: list[str], tags: dict[str, str] | None = None
                     ) -> dict[str, Any]:
    """A Uniform scale set with ``capacity`` VMs and the given user-assigned identities."""
    group = resource_groups.get(store, subscription_id, resource_group)
    scale_set: dict[str, Any] = {
        "id": vmss_id(subscription_id, group["name"], name),
        "name": name,
        "type": VMSS_TYPE,
        "location": location,
        "tags": tags or {},
        "sku": {"name": vm_size, "tier": "Standard", "capacity": 0},
        "properties": {
            "provisioningState": "Succeeded",
            "uniqueId": directory.new_guid(),
            "orchestrationMode": "Uniform",
            "upgradePolicy": {"mode": "Manual"},
            "overprovision": False,
            "singlePlacementGroup": False,
            "virtualMachineProfile": {
                "osProfile": {"computerNamePrefix": name, "adminUsername": "azureuser"},
            },
        },
    }
    if user_assigned_ids:
        scale_set["identity"] = {"type": "UserAssigned",
                                 "userAssignedIdentities": _user_assigned(store, user_assigned_ids)}
    _save(store, scale_set)
    return set_capacity(store, scale_set, capacity)


def set_capacity(store: CloudStore, scale_set: dict[str, Any], capacity: int) -> dict[str, Any]:
    """Add VMs (next instance ids) or remove the highest ones until there are ``capacity``."""
    with store.transaction():
        vms = vms_of(store, scale_set)
        next_instance = max((int(vm["instanceId"]) for vm in vms), default=-1) + 1
        for _ in range(capacity - len(vms)):
            vm = _vm_document(scale_set, next_instance)
            store.put("arm", ids.key(vm["id"]), vm, parent=ids.key(scale_set["id"]),
                      seq=next_instance)
            directory.index_vm(store, vm, scale_set["id"])
            next_instance += 1
        for vm in sorted(vms, key=lambda v: int(v["instanceId"]))[max(capacity, 0):]:
            delete_vm(store, vm)
        scale_set["sku"]["capacity"] = capacity
        _save(store, scale_set)
    return scale_set


def delete_vm(store: CloudStore, vm: dict[str, Any]) -> None:
    directory.unindex_vm(store, vm["properties"]["vmId"])
    store.delete("arm", ids.key(vm["id"]))


def _user_assigned(store: CloudStore, resource_ids: list[str]) -> dict[str, dict[str, str]]:
    attached = {}
    for resource_id in resource_ids:
        identity = identities.find(store, resource_id)
        if identity is None:
            raise errors.ArmError(
                400, "FailedIdentityOperation",
                f"Identity operation for resource '{resource_id}' failed: the user-assigned "
                "identity was not found.")
        attached[identity["id"]] = {"principalId": identity["properties"]["principalId"],
                                    "clientId": identity["properties"]["clientId"]}
    return attached


def update_identity(store: CloudStore, scale_set: dict[str, Any],
                    requested: dict[str, Any]) -> dict[str, Any]:
    """``PATCH {identity}``: the type decides which kinds stay; listed user-assigned ids are
    added, ``null`` entries removed; the system-assigned principal is created or deleted."""
    current = scale_set.get("identity") or {}
    kinds = {part.strip() for part in (requested.get("type") or "None").split(",")}
    tenant_id = subscriptions.tenant_of(store, ids.subscription_of(scale_set["id"]) or "")
    identity: dict[str, Any] = {}
    if "SystemAssigned" in kinds:
        principal_id = current.get("principalId")
        if not principal_id:
            principal = directory.create_managed_identity_principal(
                store, display_name=scale_set["name"], tenant_id=tenant_id,
                resource_id=scale_set["id"])
            principal_id = principal["id"]
        identity.update(principalId=principal_id, tenantId=tenant_id)
    elif current.get("principalId"):
        directory.delete_principal(store, current["principalId"])
    if "UserAssigned" in kinds:
        attached = {ids.key(rid): (rid, value) for rid, value in
                    (current.get("userAssignedIdentities") or {}).items()}
        for resource_id, value in (requested.get("userAssignedIdentities") or {}).items():
            if value is None:
                attached.pop(ids.key(resource_id), None)
            elif ids.key(resource_id) not in attached:
                [(rid, details)] = _user_assigned(store, [resource_id]).items()
                attached[ids.key(rid)] = (rid, details)
        if attached:
            identity["userAssignedIdentities"] = dict(sorted(attached.values()))
    types = [kind for kind, present in (("SystemAssigned", "principalId" in identity),
                                        ("UserAssigned", "userAssignedIdentities" in identity))
             if present]
    if types:
        scale_set["identity"] = {"type": ", ".join(types), **identity}
    else:
        scale_set.pop("identity", None)
    _save(store, scale_set)
    return scale_set



def attach_user_assigned(store: CloudStore, scale_set: dict[str, Any],
                         resource_id: str) -> dict[str, Any]:
    """Add one user-assigned identity, keeping whatever else is attached."""
    kinds = {part.strip() for part in
             ((scale_set.get("identity") or {}).get("type") or "None").split(",")}
    kinds.discard("None")
    kinds.add("UserAssigned")
    return update_identity(store, scale_set, {
        "type": ", ".join(sorted(kinds)), "userAssignedIdentities": {resource_id: {}}})


def detach_user_assigned(store: CloudStore, scale_set: dict[str, Any],
                         resource_id: str) -> dict[str, Any]:
    """Remove one user-assigned identity (a no-op when it is not attached)."""
    current = scale_set.get("identity") or {}
    if not any(ids.key(rid) == ids.key(resource_id)
               for rid in current.get("userAssignedIdentities") or {}):
        return scale_set
    return update_identity(store, scale_set, {
        "type": current.get("type") or "UserAssigned",
        "userAssignedIdentities": {resource_id: None}})
