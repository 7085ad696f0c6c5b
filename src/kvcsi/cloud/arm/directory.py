"""The local directory: service principals (kind ``principal``), applications (kind
``application``), and the VM lookups IMDS needs.

Upstream counterpart: the Entra ID directory objects (``servicePrincipal``, ``application``)
that Graph serves and that tokens name in ``oid``/``appid``. Principal documents follow
``local-wiring.md`` §3.1: ``{"id", "appId", "displayName", "servicePrincipalType",
"alternativeNames", "tenantId"}`` plus ``servicePrincipalNames`` and ``accountEnabled``.
VMSS VMs are indexed by ``vmId`` in kind ``vm-id`` (key = vmId lower-cased,
body ``{"vmId", "vmKey", "vmssKey"}``) so IMDS finds a VM in one read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.arm import ids
from kvcsi.cloud.store import CloudStore

PRINCIPAL = "principal"
APPLICATION = "application"
VM_INDEX = "vm-id"
VMSS_VM_TYPE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"


def new_guid() -> str:
    return str(uuid.uuid4())


def create_service_principal(store: CloudStore, *, display_name: str, tenant_id: str,
                             service_principal_type: str = "Application",
                             app_id: str | None = None, object_id: str | None = None,
                             alternative_names: list[str] | None = None) -> dict[str, Any]:
    """Create (or overwrite) a service principal and return its document."""
    object_id = object_id or new_guid()
    app_id = app_id or new_guid()
    principal = {
        "id": object_id,
        "appId": app_id,
        "displayName": display_name,
        "servicePrincipalType": service_principal_type,
        "alternativeNames": list(alternative_names or []),
        "tenantId": tenant_id,
        "servicePrincipalNames": [app_id],
        "accountEnabled": True,
    }
    store.put(PRINCIPAL, object_id, principal)
    return principal


def create_managed_identity_principal(store: CloudStore, *, display_name: str, tenant_id: str,
                                      resource_id: str) -> dict[str, Any]:
    """The service principal behind a managed identity (``alternativeNames`` = [resource id])."""
    return create_service_principal(store, display_name=display_name, tenant_id=tenant_id,
                                    service_principal_type="ManagedIdentity",
                                    alternative_names=[resource_id])


def delete_principal(store: CloudStore, object_id: str) -> bool:
    return store.delete(PRINCIPAL, object_id)


def principal_by_object_id(store: CloudStore, object_id: str) -> dict[str, Any] | None:
    found = store.get(PRINCIPAL, object_id)
    if found is None and object_id != object_id.lower():
        found = store.get(PRINCIPAL, object_id.lower())
    return found


def all_principals(store: CloudStore) -> list[dict[str, Any]]:
    return store.scan(PRINCIPAL)


def principal_by_app_id(store: CloudStore, app_id: str) -> dict[str, Any] | None:
    wanted = app_id.lower()
    return next((p for p in all_principals(store) if p["appId"].lower() == wanted), None)


def principal_by_name(store: CloudStore, name: str) -> dict[str, Any] | None:
    """A principal by display name or one of its service principal names (case-insensitive)."""
    wanted = name.lower()
    for principal in all_principals(store):
        names = [principal["displayName"], *principal.get("servicePrincipalNames", [])]
        if any(candidate.lower() == wanted for candidate in names):
            return principal
    return None


def principal_by_alternative_name(store: CloudStore, resource_id: str) -> dict[str, Any] | None:
    """The managed identity principal whose ``alternativeNames`` holds ``resource_id``."""
    wanted = ids.key(resource_id)
    for principal in all_principals(store):
        if any(ids.key(name) == wanted for name in principal.get("alternativeNames", [])):
            return principal
    return None


def create_application(store: CloudStore, *, display_name: str, app_id: str | None = None,
                       object_id: str | None = None) -> dict[str, Any]:
    """An application registration (Graph ``application``), keyed by appId."""
    application = {
        "id": object_id or new_guid(),
        "appId": app_id or new_guid(),
        "displayName": display_name,
        "signInAudience": "AzureADMyOrg",
    }
    store.put(APPLICATION, application["appId"], application)
    return application


def application_by_app_id(store: CloudStore, app_id: str) -> dict[str, Any] | None:
    return store.get(APPLICATION, app_id)


# --- VMs and their identities (IMDS) -------------------------------------------------------

def index_vm(store: CloudStore, vm: dict[str, Any], vmss_id: str) -> None:
    vm_id = vm["properties"]["vmId"]
    store.put(VM_INDEX, vm_id.lower(),
              {"vmId": vm_id, "vmKey": ids.key(vm["id"]), "vmssKey": ids.key(vmss_id)})


def unindex_vm(store: CloudStore, vm_id: str) -> None:
    store.delete(VM_INDEX, vm_id.lower())


def vm_by_vm_id(store: CloudStore, vm_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The VMSS VM with ``properties.vmId == vm_id`` and its scale set, or None."""
    entry = store.get(VM_INDEX, vm_id.lower())
    if entry is None:
        return None
    vm = store.get("arm", entry["vmKey"])
    vmss = store.get("arm", entry["vmssKey"])
    if vm is None or vmss is None:
        return None
    return vm, vmss


@dataclass(frozen=True)
class VmIdentity:
    """One managed identity attached to a scale set, as IMDS selects among them.

    ``resource_id`` is what tokens carry as ``xms_mirid``: the user-assigned identity's id, or
    the scale set's id for the system-assigned identity.
    """

    kind: str  # "SystemAssigned" | "UserAssigned"
    principal_id: str
    client_id: str | None
    resource_id: str


def identities_of_vmss(vmss: dict[str, Any], store: CloudStore | None = None) -> list[VmIdentity]:
    """The identities of a scale set: system-assigned first, then user-assigned by id.

    With ``store`` the system-assigned identity's client id is filled in from its principal.
    """
    identity = vmss.get("identity") or {}
    found: list[VmIdentity] = []
    if "SystemAssigned" in identity.get("type", "") and identity.get("principalId"):
        client_id = None
        if store is not None:
            principal = principal_by_object_id(store, identity["principalId"])
            client_id = principal["appId"] if principal else None
        found.append(VmIdentity("SystemAssigned", identity["principalId"], client_id,
                                vmss["id"]))
    for resource_id, details in sorted((identity.get("userAssignedIdentities") or {}).items()):
        found.append(VmIdentity("UserAssigned", details["principalId"], details["clientId"],
                                resource_id))
    return found
