"""``az aks``: create/show/list/delete, the Key Vault secrets provider add-on and its
identity, ``nodepool scale`` (and the node list the node runtime follows), get-credentials;
``az vmss`` and ``vmss identity`` on the node pool, with IMDS following what is attached."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from az_runner import Az, as_json
from support.local_cloud import LocalCloud

ADDON = "azure-keyvault-secrets-provider"


@pytest.fixture(scope="module")
def cluster(az: Az) -> dict[str, Any]:
    az.ok("group", "create", "-n", "aks-rg", "-l", "eastus")
    return az.ok("aks", "create", "-g", "aks-rg", "-n", "Cl1", "--node-count", "1").json()


def _vmss_name(az: Az, cluster: dict[str, Any]) -> str:
    return az.ok("vmss", "list", "-g", cluster["nodeResourceGroup"], "--query", "[0].name",
                 "-o", "tsv").stdout.strip()


def _nodes(cloud: LocalCloud, name: str) -> list[str]:
    data = json.loads((cloud.home / "clusters" / name / "cluster.json").read_text())
    return [node["name"] for node in data["nodes"]]


def _imds_token(cloud: LocalCloud, az: Az, cluster: dict[str, Any],
                client_id: str | None = None) -> httpx.Response:
    node = json.loads((cloud.home / "clusters" / cluster["name"] / "cluster.json").read_text()
                      )["nodes"][0]
    params = {"api-version": "2018-02-01", "resource": cloud.endpoints["keyvault_resource"]}
    if client_id:
        params["client_id"] = client_id
    return httpx.get(f"{node['imdsEndpoint']}/metadata/identity/oauth2/token", params=params,
                     headers={"Metadata": "true"})


def test_create_and_show(az: Az, cloud: LocalCloud, sub: str, cluster: dict[str, Any]) -> None:
    node_group = "MC_aks-rg_Cl1_eastus"
    kubelet_id = (f"/subscriptions/{sub}/resourceGroups/{node_group}/providers/"
                  "Microsoft.ManagedIdentity/userAssignedIdentities/Cl1-agentpool")
    assert cluster["nodeResourceGroup"] == node_group
    assert cluster["resourceGroup"] == "aks-rg"
    assert cluster["identityProfile"]["kubeletidentity"]["resourceId"] == kubelet_id
    assert cluster["agentPoolProfiles"][0]["count"] == 1
    kubelet = az.ok("identity", "show", "-g", node_group, "-n", "Cl1-agentpool").json()
    assert az.ok("aks", "show", "-g", "aks-rg", "-n", "Cl1", "--query",
                 "identityProfile.kubeletidentity").stdout == as_json(
        {"clientId": kubelet["clientId"], "objectId": kubelet["principalId"],
         "resourceId": kubelet_id})
    assert az.ok("aks", "show", "-g", "aks-rg", "-n", "Cl1", "--query",
                 "identityProfile.kubeletidentity.clientId", "-o", "tsv").stdout == \
        kubelet["clientId"] + "\n"
    assert az.ok("aks", "list", "--query", "[].[name, resourceGroup, nodeResourceGroup]",
                 "-o", "tsv").stdout == f"Cl1\taks-rg\t{node_group}\n"
    assert _nodes(cloud, "Cl1") == [f"{_vmss_name(az, cluster)}000000"]
    missing = az("aks", "show", "-g", "aks-rg", "-n", "Nope")
    assert missing.exit_code == 3
    assert missing.stderr.startswith(
        "ERROR: (ResourceNotFound) The Resource 'Microsoft.ContainerService/managedClusters/"
        "Nope' under resource group 'aks-rg' was not found.")


def test_secrets_provider_addon_identity(az: Az, cloud: LocalCloud, sub: str,
                                         cluster: dict[str, Any]) -> None:
    node_group = cluster["nodeResourceGroup"]
    enabled = az.ok("aks", "enable-addons", "-g", "aks-rg", "-n", "Cl1", "--addons", ADDON)
    addon_identity = az.ok("identity", "show", "-g", node_group,
                           "-n", "azurekeyvaultsecretsprovider-cl1").json()
    resource_id = (f"/subscriptions/{sub}/resourceGroups/{node_group}/providers/"
                   "Microsoft.ManagedIdentity/userAssignedIdentities/"
                   "azurekeyvaultsecretsprovider-cl1")
    assert addon_identity["id"] == resource_id
    assert enabled.json()["addonProfiles"] == {"azureKeyvaultSecretsProvider": {
        "config": {"enableSecretRotation": "false", "rotationPollInterval": "2m"},
        "enabled": True,
        "identity": {"clientId": addon_identity["clientId"],
                     "objectId": addon_identity["principalId"], "resourceId": resource_id}}}
    attached = az.ok("vmss", "identity", "show", "-g", node_group, "-n",
                     _vmss_name(az, cluster), "--query", "userAssignedIdentities").json()
    kubelet = cluster["identityProfile"]["kubeletidentity"]
    assert attached == {
        kubelet["resourceId"]: {"clientId": kubelet["clientId"],
                                "principalId": kubelet["objectId"]},
        resource_id: {"clientId": addon_identity["clientId"],
                      "principalId": addon_identity["principalId"]}}
    # Two user-assigned identities now: IMDS needs the caller to choose, as on Azure.
    ambiguous = _imds_token(cloud, az, cluster)
    assert ambiguous.status_code == 400
    assert "Multiple user assigned identities exist" in ambiguous.json()["error_description"]
    assert _imds_token(cloud, az, cluster, addon_identity["clientId"]).status_code == 200
    again = az("aks", "enable-addons", "-g", "aks-rg", "-n", "Cl1", "-a", ADDON)
    assert again.exit_code == 1
    assert again.stderr.startswith(f"ERROR: The {ADDON} addon is already enabled for this "
                                   "managed cluster.")

    assert az.ok("aks", "disable-addons", "-g", "aks-rg", "-n", "Cl1", "-a", ADDON
                 ).stdout == ""
    assert az.ok("aks", "show", "-g", "aks-rg", "-n", "Cl1", "--query", "addonProfiles"
                 ).json() == {"azureKeyvaultSecretsProvider": {"config": None,
                                                               "enabled": False}}
    assert az("identity", "show", "-g", node_group,
              "-n", "azurekeyvaultsecretsprovider-cl1").exit_code == 3
    assert list(az.ok("vmss", "identity", "show", "-g", node_group, "-n",
                      _vmss_name(az, cluster), "--query", "userAssignedIdentities"
                      ).json()) == [kubelet["resourceId"]]
    assert _imds_token(cloud, az, cluster).status_code == 200
    unknown = az("aks", "enable-addons", "-g", "aks-rg", "-n", "Cl1", "-a", "monitoring2")
    assert unknown.exit_code == 2
    assert unknown.stderr == ('ERROR: The addon "monitoring2" is not a recognized addon '
                              f"option. Possible options: {ADDON}\n")


def test_vmss_identity_assign_remove_show(az: Az, cloud: LocalCloud, sub: str,
                                          cluster: dict[str, Any]) -> None:
    node_group = cluster["nodeResourceGroup"]
    vmss = _vmss_name(az, cluster)
    kubelet = cluster["identityProfile"]["kubeletidentity"]
    system = az.ok("vmss", "identity", "assign", "-g", node_group, "-n", vmss).json()
    assert system["userAssignedIdentities"] == {kubelet["resourceId"]: {
        "clientId": kubelet["clientId"], "principalId": kubelet["objectId"]}}
    shown = az.ok("vmss", "identity", "show", "-g", node_group, "-n", vmss).json()
    assert shown["type"] == "SystemAssigned, UserAssigned"
    assert shown["principalId"] == system["systemAssignedIdentity"]
    assert shown["tenantId"] == cloud.tenant_id
    az.ok("identity", "create", "-g", node_group, "-n", "extra-id")
    extra = az.ok("vmss", "identity", "assign", "-g", node_group, "-n", vmss,
                  "--identities", "extra-id").json()
    assert len(extra["userAssignedIdentities"]) == 2
    assert az.ok("vmss", "identity", "show", "-g", node_group, "-n", vmss, "--query", "type",
                 "-o", "tsv").stdout == "SystemAssigned, UserAssigned\n"
    removed = az.ok("vmss", "identity", "remove", "-g", node_group, "-n", vmss,
                    "--identities", "[system]", "extra-id").json()
    assert removed == {"type": "UserAssigned", "userAssignedIdentities": {
        kubelet["resourceId"]: {"clientId": kubelet["clientId"],
                                "principalId": kubelet["objectId"]}}}
    not_there = az("vmss", "identity", "remove", "-g", node_group, "-n", vmss,
                   "--identities", "[system]")
    assert (not_there.exit_code, not_there.stderr) == (
        1, f"ERROR: System-assigned identity is not assigned to scale set '{vmss}'\n")
    assert az.ok("vmss", "show", "-g", node_group, "-n", vmss, "--query",
                 "[name, sku.capacity]", "-o", "tsv").stdout.split() == [vmss, "1"]


def test_nodepool_scale_refreshes_the_node_list(az: Az, cloud: LocalCloud,
                                                cluster: dict[str, Any]) -> None:
    vmss = _vmss_name(az, cluster)
    scaled = az.ok("aks", "nodepool", "scale", "-g", "aks-rg", "--cluster-name", "Cl1",
                   "-n", "nodepool1", "--node-count", "3", "--query",
                   "[name, count, resourceGroup]", "-o", "tsv")
    assert scaled.stdout == "nodepool1\n3\naks-rg\n"
    assert _nodes(cloud, "Cl1") == [f"{vmss}00000{i}" for i in range(3)]
    az.ok("aks", "nodepool", "scale", "-g", "aks-rg", "--cluster-name", "Cl1",
          "-n", "nodepool1", "-c", "1")
    assert _nodes(cloud, "Cl1") == [f"{vmss}000000"]
    missing = az("aks", "nodepool", "scale", "-g", "aks-rg", "--cluster-name", "Cl1",
                 "-n", "pool9", "-c", "1")
    assert missing.exit_code == 3


def test_get_credentials_explains_itself_and_delete(az: Az, cloud: LocalCloud) -> None:
    az.ok("aks", "create", "-g", "aks-rg", "-n", "Cl2", "-c", "1")
    result = az.ok("aks", "get-credentials", "-g", "aks-rg", "-n", "Cl2")
    assert result.stdout == ""
    assert result.stderr == (
        f'Merged "Cl2" as current context in {cloud.home / "current-cluster"}\n'
        "(kvcsi writes no kubeconfig: `kvcsi kubectl` now talks to this local cluster)\n")
    assert (cloud.home / "current-cluster").read_text() == "Cl2\n"
    assert az.ok("aks", "delete", "-g", "aks-rg", "-n", "Cl2", "--yes").stdout == ""
    assert not (cloud.home / "clusters" / "Cl2").exists()
    assert az.ok("group", "exists", "-n", "MC_aks-rg_Cl2_eastus").stdout == "false\n"


def test_system_identity_with_a_role_and_deleting_the_group(az: Az, cloud: LocalCloud,
                                                             sub: str) -> None:
    az.ok("group", "create", "-n", "aks-rg-3", "-l", "eastus")
    cluster = az.ok("aks", "create", "-g", "aks-rg-3", "-n", "Cl3", "-c", "1").json()
    node_group = cluster["nodeResourceGroup"]
    scope = f"/subscriptions/{sub}/resourceGroups/aks-rg-3"
    assigned = az.ok("vmss", "identity", "assign", "-g", node_group, "-n",
                     _vmss_name(az, cluster), "--role", "Reader", "--scope", scope).json()
    principal = assigned["systemAssignedIdentity"]
    assert az.ok("role", "assignment", "list", "--scope", scope, "--query",
                 "[].[principalId, roleDefinitionName]", "-o", "tsv").stdout == \
        f"{principal}\tReader\n"
    assert _nodes(cloud, "Cl3") == [f"{_vmss_name(az, cluster)}000000"]
    az.ok("group", "delete", "-n", "aks-rg-3", "--yes")
    assert not (cloud.home / "clusters" / "Cl3").exists()
    assert az.ok("group", "exists", "-n", node_group).stdout == "false\n"
    assert cloud.store.get("principal", principal) is None
