"""The ARM and Graph HTTP surface through ASGI, with a fake authenticate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from arm_fixtures import AsgiClient, FakeContext, bootstrapped_store

from kvcsi.cloud.arm import bootstrap, directory, roles
from kvcsi.cloud.arm.routes import arm_app, graph_app
from kvcsi.cloud.store import CloudStore

API = {"api-version": "2022-09-01"}
STRANGER = "55555555-0000-0000-0000-000000000005"


class Arm:
    def __init__(self, client: AsgiClient, defaults: bootstrap.CloudDefaults) -> None:
        self.client = client
        self.sub = defaults.subscription_id
        self.owner = defaults.local_object_id
        self.tenant = defaults.tenant_id

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             caller: str | None = None, params: dict[str, str] | None = None) -> Any:
        return self.client.request(method, path, json=body,
                                   params=API if params is None else params,
                                   headers={"Authorization": f"Bearer {caller or self.owner}"})


@pytest.fixture
def env(tmp_path: Path) -> tuple[Arm, CloudStore]:
    store, found = bootstrapped_store(tmp_path)
    return Arm(AsgiClient(arm_app(FakeContext(store))), found), store


def test_authentication_and_api_version_errors(env: tuple[Arm, CloudStore]) -> None:
    arm, _ = env
    missing = arm.client.get(f"/subscriptions/{arm.sub}", params=API)
    assert missing.status_code == 401
    assert missing.json() == {"error": {"code": "AuthenticationFailed", "message":
                              "Authentication failed. The 'Authorization' header is missing."}}
    bad = arm.call("GET", f"/subscriptions/{arm.sub}", caller="bad")
    assert (bad.status_code, bad.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")
    no_version = arm.call("GET", f"/subscriptions/{arm.sub}", params={})
    assert no_version.status_code == 400
    assert no_version.json()["error"] == {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all "
                   "requests."}


def test_subscriptions_and_tenants(env: tuple[Arm, CloudStore]) -> None:
    arm, _ = env
    listed = arm.call("GET", "/subscriptions").json()["value"]
    assert [(s["subscriptionId"], s["tenantId"], s["displayName"], s["state"], s["id"])
            for s in listed] == [(arm.sub, arm.tenant, "kvcsi-local", "Enabled",
                                  f"/subscriptions/{arm.sub}")]
    assert arm.call("GET", f"/subscriptions/{arm.sub}").json()["displayName"] == "kvcsi-local"
    assert arm.call("GET", "/subscriptions", caller=STRANGER).json() == {"value": []}
    tenants = arm.call("GET", "/tenants").json()["value"]
    assert [(t["id"], t["tenantId"]) for t in tenants] == [(f"/tenants/{arm.tenant}",
                                                            arm.tenant)]


def test_resource_group_lifecycle(env: tuple[Arm, CloudStore]) -> None:
    arm, _ = env
    path = f"/subscriptions/{arm.sub}/resourcegroups/myRG"
    created = arm.call("PUT", path, {"location": "East US"})
    assert created.status_code == 201
    assert created.json() == {"id": f"/subscriptions/{arm.sub}/resourceGroups/myRG",
                              "name": "myRG", "type": "Microsoft.Resources/resourceGroups",
                              "location": "eastus", "tags": {},
                              "properties": {"provisioningState": "Succeeded"}}
    assert arm.call("PUT", path.upper().replace("SUBSCRIPTIONS/" + arm.sub.upper(),
                                                "subscriptions/" + arm.sub),
                    {"location": "eastus"}).status_code == 200
    conflict = arm.call("PUT", path, {"location": "westus"})
    assert (conflict.status_code, conflict.json()["error"]) == (409, {
        "code": "InvalidResourceGroupLocation",
        "message": "Invalid resource group location 'westus'. The Resource group already "
                   "exists in location 'eastus'."})
    assert arm.call("GET", path.replace("myRG", "MYRG")).json()["name"] == "myRG"
    names = [g["name"] for g in arm.call("GET", f"/subscriptions/{arm.sub}/resourcegroups")
             .json()["value"]]
    assert names == ["myRG"]
    assert arm.call("DELETE", path).status_code == 200
    missing = arm.call("GET", path)
    assert (missing.status_code, missing.json()["error"]) == (404, {
        "code": "ResourceGroupNotFound", "message": "Resource group 'myRG' could not be found."})


def test_vaults(env: tuple[Arm, CloudStore]) -> None:
    arm, _ = env
    for group in ("rg1", "rg2"):
        arm.call("PUT", f"/subscriptions/{arm.sub}/resourceGroups/{group}", {"location": "eastus"})
    base = f"/subscriptions/{arm.sub}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults"
    no_location = arm.call("PUT", f"{base}/MyVault", {"properties": {}})
    assert (no_location.status_code, no_location.json()["error"]["code"]) == (
        400, "LocationRequired")
    created = arm.call("PUT", f"{base}/MyVault", {"location": "eastus"})
    assert created.status_code == 201
    properties = created.json()["properties"]
    assert (properties["vaultUri"], properties["enableRbacAuthorization"], properties["sku"],
            properties["tenantId"], properties["enableSoftDelete"],
            properties["softDeleteRetentionInDays"], properties["accessPolicies"]) == (
        "https://myvault.vault.localhost:8443/", True, {"family": "A", "name": "standard"},
        arm.tenant, True, 90, [])
    other = f"/subscriptions/{arm.sub}/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults"
    taken = arm.call("PUT", f"{other}/myvault", {"location": "eastus"})
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "VaultAlreadyExists")
    invalid = arm.call("PUT", f"{base}/1-bad--name", {"location": "eastus"})
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, "VaultNameNotValid")
    listed = arm.call("GET", f"/subscriptions/{arm.sub}/providers/Microsoft.KeyVault/vaults")
    assert [v["name"] for v in listed.json()["value"]] == ["MyVault"]
    assert arm.call("DELETE", f"{base}/MyVault").status_code == 200
    assert arm.call("DELETE", f"{base}/MyVault").status_code == 204
    missing = arm.call("GET", f"{base}/MyVault")
    assert missing.json()["error"] == {
        "code": "ResourceNotFound",
        "message": "The Resource 'Microsoft.KeyVault/vaults/MyVault' under resource group 'rg1' "
                   "was not found. For more details please go to "
                   "https://aka.ms/ARMResourceNotFoundFix"}
    again = arm.call("PUT", f"{base}/MyVault", {"location": "eastus"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ConflictError")
    deleted = arm.call("GET", f"/subscriptions/{arm.sub}/providers/Microsoft.KeyVault/"
                              "deletedVaults").json()["value"]
    assert [d["name"] for d in deleted] == ["MyVault"]
    purged = arm.call("POST", f"/subscriptions/{arm.sub}/providers/Microsoft.KeyVault/"
                              "locations/eastus/deletedVaults/MyVault/purge")
    assert purged.status_code == 200
    assert arm.call("PUT", f"{other}/MyVault", {"location": "eastus"}).status_code == 201


def test_role_assignments(env: tuple[Arm, CloudStore]) -> None:
    arm, store = env
    arm.call("PUT", f"/subscriptions/{arm.sub}/resourceGroups/rg", {"location": "eastus"})
    vault = f"/subscriptions/{arm.sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"
    arm.call("PUT", vault, {"location": "eastus"})
    identity = arm.call("PUT", f"/subscriptions/{arm.sub}/resourceGroups/rg/providers/"
                               "Microsoft.ManagedIdentity/userAssignedIdentities/app-id",
                        {"location": "eastus"}).json()
    principal_id = identity["properties"]["principalId"]
    role_id = f"/subscriptions/{arm.sub}/providers/Microsoft.Authorization/roleDefinitions/" \
              f"{roles.KEY_VAULT_SECRETS_USER.guid}"
    scope = f"{vault}/secrets/db"
    url = f"{scope}/providers/Microsoft.Authorization/roleAssignments/" \
          "11111111-2222-3333-4444-555555555555"
    created = arm.call("PUT", url, {"properties": {"roleDefinitionId": role_id,
                                                   "principalId": principal_id}})
    assert created.status_code == 201
    assert {k: created.json()["properties"][k] for k in
            ("roleDefinitionId", "principalId", "principalType", "scope")} == {
        "roleDefinitionId": role_id, "principalId": principal_id,
        "principalType": "ServicePrincipal", "scope": scope}
    duplicate = arm.call("PUT", url.replace("55555555", "66666666"),
                         {"properties": {"roleDefinitionId": role_id,
                                         "principalId": principal_id}})
    assert (duplicate.status_code, duplicate.json()["error"]) == (409, {
        "code": "RoleAssignmentExists", "message": "The role assignment already exists."})
    unknown = "77777777-0000-0000-0000-000000000007"
    no_principal = arm.call("PUT", url.replace("55555555", "77777777"),
                            {"properties": {"roleDefinitionId": role_id,
                                            "principalId": unknown}})
    assert no_principal.status_code == 400
    assert no_principal.json()["error"]["code"] == "PrincipalNotFound"
    assert no_principal.json()["error"]["message"].startswith(
        f"Principal 77777777000000000000000000000007 does not exist in the directory "
        f"{arm.tenant}.")
    no_role = arm.call("PUT", url.replace("55555555", "88888888"), {"properties": {
        "roleDefinitionId": role_id.replace(roles.KEY_VAULT_SECRETS_USER.guid, unknown),
        "principalId": principal_id}})
    assert (no_role.status_code, no_role.json()["error"]["code"]) == (
        400, "RoleDefinitionDoesNotExist")
    listed = arm.call("GET", f"/subscriptions/{arm.sub}/providers/Microsoft.Authorization/"
                             "roleAssignments",
                      params={**API, "$filter": f"principalId eq '{principal_id}'"})
    assert [a["id"] for a in listed.json()["value"]] == [created.json()["id"]]
    at_vault = arm.call("GET", f"{vault}/providers/Microsoft.Authorization/roleAssignments",
                        params={**API, "$filter": "atScope()"}).json()["value"]
    assert sorted(a["properties"]["principalId"] for a in at_vault) == [arm.owner, arm.owner]
    everything = arm.call("GET", f"/subscriptions/{arm.sub}/providers/Microsoft.Authorization/"
                                 "roleAssignments").json()["value"]
    assert len(everything) == 3
    from kvcsi.cloud.arm import rbac
    assert rbac.check_data_action(store, principal_id,
                                  "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                                  scope).allowed
    assert arm.call("DELETE", url).status_code == 200
    assert arm.call("DELETE", url).status_code == 204
    assert arm.call("GET", url).json()["error"]["code"] == "RoleAssignmentNotFound"


def test_role_definitions(env: tuple[Arm, CloudStore]) -> None:
    arm, _ = env
    found = arm.call("GET", f"/subscriptions/{arm.sub}/providers/Microsoft.Authorization/"
                            "roleDefinitions",
                     params={**API, "$filter": "roleName eq 'Key Vault Secrets User'"})
    [definition] = found.json()["value"]
    assert definition["id"] == (f"/subscriptions/{arm.sub}/providers/Microsoft.Authorization/"
                                f"roleDefinitions/{roles.KEY_VAULT_SECRETS_USER.guid}")
    assert definition["properties"]["permissions"][0]["dataActions"] == [
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]
    by_id = arm.call("GET", definition["id"]).json()
    assert by_id["properties"]["roleName"] == "Key Vault Secrets User"


def test_unauthorised_caller_gets_authorization_failed(env: tuple[Arm, CloudStore]) -> None:
    arm, _ = env
    path = f"/subscriptions/{arm.sub}/resourcegroups/rg"
    denied = arm.call("PUT", path, {"location": "eastus"}, caller=STRANGER)
    assert denied.status_code == 403
    assert denied.json()["error"] == {
        "code": "AuthorizationFailed",
        "message": f"The client '{STRANGER}' with object id '{STRANGER}' does not have "
                   "authorization to perform action "
                   "'Microsoft.Resources/subscriptions/resourceGroups/write' over scope "
                   f"'/subscriptions/{arm.sub}/resourcegroups/rg' or the scope is invalid. If "
                   "access was recently granted, please refresh your credentials."}


def test_managed_cluster_and_scale_set_routes(env: tuple[Arm, CloudStore]) -> None:
    arm, store = env
    arm.call("PUT", f"/subscriptions/{arm.sub}/resourceGroups/rg", {"location": "eastus"})
    path = (f"/subscriptions/{arm.sub}/resourceGroups/rg/providers/"
            "Microsoft.ContainerService/managedClusters/aks1")
    created = arm.call("PUT", path, {"location": "eastus", "properties": {
        "agentPoolProfiles": [{"name": "nodepool1", "count": 2}]}})
    assert created.status_code == 201
    cluster = created.json()
    assert cluster["properties"]["nodeResourceGroup"] == "MC_rg_aks1_eastus"
    node_rg = f"/subscriptions/{arm.sub}/resourceGroups/MC_rg_aks1_eastus"
    [scale_set] = arm.call("GET", f"{node_rg}/providers/Microsoft.Compute/"
                                  "virtualMachineScaleSets").json()["value"]
    vms_url = f"{node_rg}/providers/Microsoft.Compute/virtualMachineScaleSets/" \
              f"{scale_set['name']}/virtualMachines"
    assert len(arm.call("GET", vms_url).json()["value"]) == 2
    pool = arm.call("PUT", f"{path}/agentPools/nodepool1", {"properties": {"count": 4}})
    assert (pool.status_code, pool.json()["properties"]["count"]) == (200, 4)
    assert [vm["instanceId"] for vm in arm.call("GET", vms_url).json()["value"]] == [
        "0", "1", "2", "3"]
    patched = arm.call("PATCH", f"{node_rg}/providers/Microsoft.Compute/"
                                f"virtualMachineScaleSets/{scale_set['name']}",
                       {"identity": {"type": "SystemAssigned, UserAssigned"}})
    assert patched.json()["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert directory.principal_by_object_id(store, patched.json()["identity"]["principalId"])
    assert arm.call("DELETE", path).status_code == 200
    assert arm.call("GET", node_rg).status_code == 404


def test_unknown_resource_type(env: tuple[Arm, CloudStore]) -> None:
    arm, _ = env
    arm.call("PUT", f"/subscriptions/{arm.sub}/resourceGroups/rg", {"location": "eastus"})
    answer = arm.call("GET", f"/subscriptions/{arm.sub}/resourceGroups/rg/providers/"
                             "Microsoft.KeyVault/widgets/x")
    assert (answer.status_code, answer.json()["error"]) == (404, {
        "code": "InvalidResourceType",
        "message": "The resource type 'widgets' could not be found in the namespace "
                   "'Microsoft.KeyVault' for api version '2022-09-01'."})


def test_graph(tmp_path: Path) -> None:
    store, found = bootstrapped_store(tmp_path)
    client = AsgiClient(graph_app(FakeContext(store)))
    headers = {"Authorization": f"Bearer {found.local_object_id}"}
    missing = client.get("/v1.0/servicePrincipals")
    assert (missing.status_code, missing.json()["error"]) == (401, {
        "code": "InvalidAuthenticationToken", "message": "Access token is empty."})
    by_app = client.get("/v1.0/servicePrincipals",
                        params={"$filter": f"appId eq '{found.local_app_id}'"},
                        headers=headers).json()
    assert [p["id"] for p in by_app["value"]] == [found.local_object_id]
    by_spn = client.get("/v1.0/servicePrincipals", headers=headers, params={
        "$filter": f"servicePrincipalNames/any(c:c eq '{found.local_app_id}')"}).json()
    assert [p["displayName"] for p in by_spn["value"]] == ["kvcsi-local-user"]
    one = client.get(f"/v1.0/servicePrincipals/{found.local_object_id}", headers=headers)
    assert (one.json()["appId"], one.json()["servicePrincipalType"]) == (
        found.local_app_id, "Application")
    obj = client.get(f"/v1.0/directoryObjects/{found.local_object_id}", headers=headers).json()
    assert obj["@odata.type"] == "#microsoft.graph.servicePrincipal"
    absent = client.get(f"/v1.0/directoryObjects/{STRANGER}", headers=headers)
    assert (absent.status_code, absent.json()["error"]["code"]) == (404,
                                                                    "Request_ResourceNotFound")
    by_ids = client.post("/v1.0/directoryObjects/getByIds", headers=headers,
                         json={"ids": [found.local_object_id, STRANGER]}).json()
    assert [o["id"] for o in by_ids["value"]] == [found.local_object_id]
