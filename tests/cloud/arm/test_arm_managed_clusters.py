"""AKS clusters as az aks create leaves them: node RG, kubelet identity, VMSS and VMs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from arm_fixtures import bootstrapped_store

from kvcsi.cloud.arm import (
    cascade,
    directory,
    errors,
    identities,
    managed_clusters,
    resource_groups,
    vmss,
)
from kvcsi.cloud.store import CloudStore


@pytest.fixture
def cluster_env(tmp_path: Path) -> tuple[CloudStore, str, dict[str, Any]]:
    store, found = bootstrapped_store(tmp_path)
    sub = found.subscription_id
    resource_groups.create_or_update(store, sub, "myResourceGroup", {"location": "eastus"})
    cluster, created = managed_clusters.create_or_update(store, sub, "myResourceGroup",
                                                         "myAKSCluster", {})
    assert created is True
    return store, sub, cluster


def test_cluster_document(cluster_env: tuple[CloudStore, str, dict[str, Any]]) -> None:
    store, sub, cluster = cluster_env
    properties = cluster["properties"]
    assert cluster["id"] == (f"/subscriptions/{sub}/resourceGroups/myResourceGroup/providers/"
                             "Microsoft.ContainerService/managedClusters/myAKSCluster")
    assert (cluster["location"], properties["provisioningState"]) == ("eastus", "Succeeded")
    assert properties["nodeResourceGroup"] == "MC_myResourceGroup_myAKSCluster_eastus"
    assert [(p["name"], p["count"], p["vmSize"], p["mode"])
            for p in properties["agentPoolProfiles"]] == [
        ("nodepool1", 3, "Standard_DS2_v2", "System")]
    kubelet = properties["identityProfile"]["kubeletidentity"]
    identity = identities.get(store, sub, "MC_myResourceGroup_myAKSCluster_eastus",
                              "myAKSCluster-agentpool")
    assert kubelet == {"resourceId": identity["id"],
                       "clientId": identity["properties"]["clientId"],
                       "objectId": identity["properties"]["principalId"]}
    principal = directory.principal_by_object_id(store, kubelet["objectId"])
    assert (principal["appId"], principal["servicePrincipalType"],
            principal["alternativeNames"]) == (kubelet["clientId"], "ManagedIdentity",
                                               [identity["id"]])
    system = directory.principal_by_object_id(store, cluster["identity"]["principalId"])
    assert cluster["identity"]["type"] == "SystemAssigned"
    assert system["alternativeNames"] == [cluster["id"]]
    assert properties["fqdn"].endswith(".hcp.eastus.azmk8s.io")
    assert managed_clusters.get(store, sub, "MYRESOURCEGROUP", "myAKSCluster") == cluster


def test_node_pool_scale_set_and_vms(cluster_env: tuple[CloudStore, str, dict[str, Any]]
                                     ) -> None:
    store, sub, cluster = cluster_env
    node_group = resource_groups.get(store, sub, "MC_myResourceGroup_myAKSCluster_eastus")
    assert node_group["managedBy"] == cluster["id"]
    [scale_set] = resource_groups.resources_in(store, sub, node_group["name"], vmss.VMSS_TYPE)
    assert re.fullmatch(r"aks-nodepool1-\d{8}-vmss", scale_set["name"])
    kubelet = cluster["properties"]["identityProfile"]["kubeletidentity"]
    assert scale_set["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {
        kubelet["resourceId"]: {"principalId": kubelet["objectId"],
                                "clientId": kubelet["clientId"]}}}
    vms = vmss.vms_of(store, scale_set)
    name = scale_set["name"]
    assert [(vm["id"], vm["instanceId"], vm["name"], vm["properties"]["osProfile"]["computerName"])
            for vm in vms] == [(f"{scale_set['id']}/virtualMachines/{i}", str(i), f"{name}_{i}",
                                f"{name}{i:06d}") for i in range(3)]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", vm["properties"]["vmId"]) for vm in vms)
    assert directory.vm_by_vm_id(store, vms[2]["properties"]["vmId"].upper()) == (vms[2],
                                                                                   scale_set)
    assert directory.identities_of_vmss(scale_set, store) == [directory.VmIdentity(
        "UserAssigned", kubelet["objectId"], kubelet["clientId"], kubelet["resourceId"])]


def test_agent_pool_count_adds_and_removes_vms(
        cluster_env: tuple[CloudStore, str, dict[str, Any]]) -> None:
    store, sub, cluster = cluster_env
    scale_set = managed_clusters.pool_vmss(store, cluster, "nodepool1")
    first_ids = [vm["properties"]["vmId"] for vm in vmss.vms_of(store, scale_set)]
    pool, created = managed_clusters.set_agent_pool(store, cluster, "nodepool1",
                                                    {"properties": {"count": 5}})
    assert (created, pool["properties"]["count"]) == (False, 5)
    vms = vmss.vms_of(store, scale_set)
    assert [vm["instanceId"] for vm in vms] == ["0", "1", "2", "3", "4"]
    assert [vm["properties"]["vmId"] for vm in vms[:3]] == first_ids
    managed_clusters.set_agent_pool(store, cluster, "nodepool1", {"properties": {"count": 1}})
    assert [vm["instanceId"] for vm in vmss.vms_of(store, scale_set)] == ["0"]
    assert directory.vm_by_vm_id(store, first_ids[1]) is None
    stored = managed_clusters.get(store, sub, "myResourceGroup", "myAKSCluster")
    assert stored["properties"]["agentPoolProfiles"][0]["count"] == 1
    assert vmss.get(store, sub, scale_set["id"].split("/")[4], scale_set["name"])["sku"][
        "capacity"] == 1


def test_new_agent_pool_gets_its_own_scale_set(
        cluster_env: tuple[CloudStore, str, dict[str, Any]]) -> None:
    store, _, cluster = cluster_env
    pool, created = managed_clusters.set_agent_pool(store, cluster, "userpool",
                                                    {"properties": {"count": 2, "mode": "User"}})
    assert created is True
    assert pool["id"] == f"{cluster['id']}/agentPools/userpool"
    scale_set = managed_clusters.pool_vmss(store, cluster, "userpool")
    digits = managed_clusters.pool_digits(cluster["id"])
    assert scale_set["name"] == f"aks-userpool-{digits}-vmss"
    assert len(vmss.vms_of(store, scale_set)) == 2


def test_vmss_identity_update_adds_and_removes_system_assigned(
        cluster_env: tuple[CloudStore, str, dict[str, Any]]) -> None:
    store, sub, cluster = cluster_env
    scale_set = managed_clusters.pool_vmss(store, cluster, "nodepool1")
    kubelet_id = cluster["properties"]["identityProfile"]["kubeletidentity"]["resourceId"]
    updated = vmss.update_identity(store, scale_set, {"type": "SystemAssigned, UserAssigned"})
    assert updated["identity"]["type"] == "SystemAssigned, UserAssigned"
    system_id = updated["identity"]["principalId"]
    principal = directory.principal_by_object_id(store, system_id)
    assert principal["alternativeNames"] == [scale_set["id"]]
    assert [i.kind for i in directory.identities_of_vmss(updated, store)] == [
        "SystemAssigned", "UserAssigned"]
    assert directory.identities_of_vmss(updated, store)[0].client_id == principal["appId"]
    removed = vmss.update_identity(store, updated, {
        "type": "SystemAssigned", "userAssignedIdentities": {kubelet_id: None}})
    assert removed["identity"] == {"type": "SystemAssigned", "principalId": system_id,
                                   "tenantId": principal["tenantId"]}
    cleared = vmss.update_identity(store, removed, {"type": "None"})
    assert "identity" not in cleared
    assert directory.principal_by_object_id(store, system_id) is None


def test_deleting_the_cluster_removes_node_resources(
        cluster_env: tuple[CloudStore, str, dict[str, Any]]) -> None:
    store, sub, cluster = cluster_env
    kubelet = cluster["properties"]["identityProfile"]["kubeletidentity"]
    deleted = cascade.delete_typed(store, sub, "myResourceGroup",
                                   managed_clusters.CLUSTER_TYPE, "myAKSCluster")
    assert deleted["id"] == cluster["id"]
    assert resource_groups.find(store, sub, cluster["properties"]["nodeResourceGroup"]) is None
    assert directory.principal_by_object_id(store, kubelet["objectId"]) is None
    assert directory.principal_by_object_id(store, cluster["identity"]["principalId"]) is None
    assert store.scan("vm-id") == []
    with pytest.raises(errors.ArmError) as raised:
        managed_clusters.get(store, sub, "myResourceGroup", "myAKSCluster")
    assert (raised.value.status, raised.value.code) == (404, "ResourceNotFound")
