"""Read-only lookups of documents the token service, IMDS and Key Vault need.

The ARM package owns these documents (contract §3.1) and ``kvcsi.cloud.arm.directory``
resolves them. Each function here delegates to that module when it provides a function of
the same name, and otherwise reads the store directly, so identity and Key Vault do not
depend on the order in which the packages are written.
"""

from __future__ import annotations

import importlib
from typing import Any

from kvcsi.cloud.store import CloudStore

VMSS_TYPE = "Microsoft.Compute/virtualMachineScaleSets"
VMSS_VM_TYPE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
VAULT_TYPE = "Microsoft.KeyVault/vaults"

Document = dict[str, Any]


def _arm_function(module_name: str, name: str) -> Any:
    try:
        module = importlib.import_module(f"kvcsi.cloud.arm.{module_name}")
    except ImportError:
        return None
    return getattr(module, name, None)


def _directory_function(name: str) -> Any:
    return _arm_function("directory", name)


def tenant(store: CloudStore, tenant_id: str) -> Document | None:
    return store.get("tenant", tenant_id) or store.get("tenant", tenant_id.lower())


def principal_by_object_id(store: CloudStore, object_id: str) -> Document | None:
    delegate = _directory_function("principal_by_object_id")
    if delegate is not None:
        return delegate(store, object_id)
    return store.get("principal", object_id) or store.get("principal", object_id.lower())


def principal_by_app_id(store: CloudStore, app_id: str) -> Document | None:
    delegate = _directory_function("principal_by_app_id")
    if delegate is not None:
        return delegate(store, app_id)
    wanted = app_id.lower()
    for principal in store.scan("principal"):
        if str(principal.get("appId", "")).lower() == wanted:
            return principal
    return None


def _arm_resources_of_type(store: CloudStore, resource_type: str) -> list[Document]:
    wanted = resource_type.lower()
    return [doc for doc in store.scan("arm") if str(doc.get("type", "")).lower() == wanted]


def vm_by_vm_id(store: CloudStore, vm_id: str) -> tuple[Document, Document] | None:
    """``(vm, vmss)`` of the scale-set VM whose ``properties.vmId`` is ``vm_id``.

    The directory finds VMs through its ``vm-id`` index; documents written without it
    (as tests do) are found by a scan.
    """
    delegate = _directory_function("vm_by_vm_id")
    found = delegate(store, vm_id) if delegate is not None else None
    if found is not None:
        return found
    wanted = vm_id.lower()
    for vm in _arm_resources_of_type(store, VMSS_VM_TYPE):
        if str(vm.get("properties", {}).get("vmId", "")).lower() != wanted:
            continue
        vmss_id = vm["id"].rsplit("/virtualMachines/", 1)[0]
        vmss = store.get("arm", vmss_id.lower())
        if vmss is not None:
            return vm, vmss
    return None


def vault_names(store: CloudStore) -> list[str]:
    """The names of every (not deleted) vault, sorted."""
    return sorted(doc["name"] for doc in _arm_resources_of_type(store, "Microsoft.KeyVault/vaults"))


def vault_by_name(store: CloudStore, vault_name: str) -> Document | None:
    """The ARM vault whose name matches ``vault_name`` case-insensitively.

    ARM finds vaults through its name index; vaults written without it are found by a scan.
    """
    delegate = _arm_function("vaults", "vault_by_name")
    found = delegate(store, vault_name) if delegate is not None else None
    if found is not None:
        return found
    wanted = vault_name.lower()
    for vault in _arm_resources_of_type(store, VAULT_TYPE):
        if str(vault.get("name", "")).lower() == wanted:
            return vault
    return None


def default_tenant_id(store: CloudStore) -> str | None:
    tenants = store.scan("tenant")
    return tenants[0]["tenantId"] if tenants else None


def default_subscription_id(store: CloudStore) -> str | None:
    for doc in store.scan("arm", "/subscriptions/"):
        if doc.get("id", "").count("/") == 2:
            return doc.get("subscriptionId") or doc["id"].rsplit("/", 1)[1]
    return None


def federated_credentials(store: CloudStore, principal: Document) -> list[Document]:
    """The federated identity credentials a service principal trusts (``issuer``,
    ``subject``, ``audiences``): its user-assigned identity's or its application's."""
    delegate = _arm_function("federated_credentials", "credentials_for_principal")
    return delegate(store, principal) if delegate is not None else []
