"""What ``explain`` needs to see at once: every role assignment, scale set and AKS cluster.

No upstream counterpart. One scan of the ``arm`` documents per explanation; it answers
"which assignments does this principal hold anywhere", "which scale sets carry this
identity, and what else do they carry", and names identities the way a user knows them
(the kubelet identity of cluster X, the Key Vault add-on identity, a system-assigned one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.arm import directory
from kvcsi.cloud.arm.directory import VmIdentity
from kvcsi.cloud.store import CloudStore

ROLE_ASSIGNMENT_TYPE = "microsoft.authorization/roleassignments"
VMSS_TYPE = "microsoft.compute/virtualmachinescalesets"
MANAGED_CLUSTER_TYPE = "microsoft.containerservice/managedclusters"
ADDON_NAME = "azureKeyvaultSecretsProvider"


@dataclass
class Inventory:
    store: CloudStore
    assignments: list[dict[str, Any]]
    scale_sets: list[dict[str, Any]]
    clusters: list[dict[str, Any]]

    @classmethod
    def load(cls, store: CloudStore) -> Inventory:
        assignments, scale_sets, clusters = [], [], []
        for document in store.scan("arm"):
            kind = str(document.get("type", "")).lower()
            if kind == ROLE_ASSIGNMENT_TYPE:
                assignments.append(document)
            elif kind == VMSS_TYPE:
                scale_sets.append(document)
            elif kind == MANAGED_CLUSTER_TYPE:
                clusters.append(document)
        return cls(store, assignments, scale_sets, clusters)

    def assignments_of(self, principal_id: str) -> list[dict[str, Any]]:
        wanted = principal_id.lower()
        return [a for a in self.assignments
                if str(a["properties"].get("principalId", "")).lower() == wanted]

    def sibling_identities(self, principal_id: str
                           ) -> list[tuple[dict[str, Any], VmIdentity]]:
        """``(scale set, other identity)`` for each scale set that carries ``principal_id``."""
        wanted = principal_id.lower()
        found = []
        for vmss in self.scale_sets:
            identities = directory.identities_of_vmss(vmss, self.store)
            if not any(i.principal_id.lower() == wanted for i in identities):
                continue
            found += [(vmss, i) for i in identities if i.principal_id.lower() != wanted]
        return found

    def identity_role(self, principal_id: str) -> str:
        """``kubelet identity of cluster 'c'`` / ``Key Vault add-on identity of ...`` / ''."""
        wanted = principal_id.lower()
        for cluster in self.clusters:
            properties = cluster.get("properties", {})
            kubelet = (properties.get("identityProfile") or {}).get("kubeletidentity") or {}
            if str(kubelet.get("objectId", "")).lower() == wanted:
                return f"kubelet identity of cluster '{cluster['name']}'"
            addon = ((properties.get("addonProfiles") or {}).get(ADDON_NAME) or {})
            if str((addon.get("identity") or {}).get("objectId", "")).lower() == wanted:
                return f"Key Vault secrets provider add-on identity of cluster '{cluster['name']}'"
        for vmss in self.scale_sets:
            identity = vmss.get("identity") or {}
            if str(identity.get("principalId", "")).lower() == wanted:
                return f"system-assigned identity of scale set '{vmss['name']}'"
        return ""

    def describe_identity(self, principal_id: str) -> str:
        """``identity 'name' (kubelet identity of cluster 'c')`` for messages."""
        principal = directory.principal_by_object_id(self.store, principal_id)
        name = principal["displayName"] if principal else principal_id
        role = self.identity_role(principal_id)
        return f"identity '{name}'" + (f" ({role})" if role else "")
