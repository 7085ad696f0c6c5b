"""``az keyvault``: vault lifecycle over ARM (create, show, list, update, delete, list-deleted,
recover, purge) and access policies — outputs and errors as az prints them."""

from __future__ import annotations

import pytest
from az_runner import Az, as_json
from support.local_cloud import LocalCloud


@pytest.fixture(scope="module", autouse=True)
def group(az: Az) -> None:
    az.ok("group", "create", "-n", "kv-rg", "-l", "eastus")


def _vault(cloud: LocalCloud, sub: str, name: str, *, rbac: bool = True,
           policies: list | None = None, purge_protection: bool | None = None) -> dict:
    properties = {
        "accessPolicies": policies or [], "enableRbacAuthorization": rbac,
        "enableSoftDelete": True, "enabledForDeployment": False,
        "enabledForDiskEncryption": False, "enabledForTemplateDeployment": False,
        "provisioningState": "Succeeded", "publicNetworkAccess": "Enabled",
        "sku": {"family": "A", "name": "standard"}, "softDeleteRetentionInDays": 90,
        "tenantId": cloud.tenant_id,
        "vaultUri": f"https://{name.lower()}.{cloud.endpoints['keyvault_dns_suffix']}/",
    }
    if purge_protection is not None:
        properties["enablePurgeProtection"] = purge_protection
    return {"id": f"/subscriptions/{sub}/resourceGroups/kv-rg/providers/Microsoft.KeyVault/"
                  f"vaults/{name}", "location": "eastus", "name": name,
            "properties": properties, "resourceGroup": "kv-rg", "tags": {},
            "type": "Microsoft.KeyVault/vaults"}


def test_create_show_list_in_json_and_tsv(az: Az, cloud: LocalCloud, sub: str) -> None:
    expected = _vault(cloud, sub, "KvCreate")
    assert az.ok("keyvault", "create", "-n", "KvCreate", "-g", "kv-rg").stdout == \
        as_json(expected)
    assert az.ok("keyvault", "show", "-n", "KvCreate").stdout == as_json(expected)
    assert az.ok("keyvault", "show", "-n", "kvcreate", "-g", "kv-rg", "-o", "tsv").stdout == \
        f"{expected['id']}\teastus\tKvCreate\t\tkv-rg\t\tMicrosoft.KeyVault/vaults\n"
    assert az.ok("keyvault", "list", "-g", "kv-rg", "--query", "[?name=='KvCreate'].name",
                 "-o", "tsv").stdout == "KvCreate\n"
    assert az.ok("keyvault", "show", "-n", "KvCreate", "--query", "properties.vaultUri",
                 "-o", "tsv").stdout == \
        f"https://kvcreate.{cloud.endpoints['keyvault_dns_suffix']}/\n"


def test_access_policy_vault_and_policies(az: Az, cloud: LocalCloud, sub: str) -> None:
    account = cloud.store.get("principal", _local_object_id(cloud))
    creator = {"objectId": account["id"], "tenantId": cloud.tenant_id,
               "permissions": {"certificates": ["all"], "keys": ["all"], "secrets": ["all"],
                               "storage": ["all"]}}
    created = az.ok("keyvault", "create", "-n", "KvPolicy", "-g", "kv-rg",
                    "--enable-rbac-authorization", "false")
    assert created.stdout == as_json(_vault(cloud, sub, "KvPolicy", rbac=False,
                                            policies=[creator]))
    reader = cloud.seed.principal("policy-reader")
    updated = az.ok("keyvault", "set-policy", "-n", "KvPolicy", "--object-id", reader["id"],
                    "--secret-permissions", "get", "list").json()
    assert updated["properties"]["accessPolicies"] == [
        creator, {"objectId": reader["id"], "tenantId": cloud.tenant_id,
                  "permissions": {"secrets": ["get", "list"]}}]
    by_spn = az.ok("keyvault", "set-policy", "-n", "KvPolicy", "--spn", reader["appId"],
                   "--key-permissions", "get").json()
    assert by_spn["properties"]["accessPolicies"][1]["permissions"] == \
        {"keys": ["get"], "secrets": ["get", "list"]}
    removed = az.ok("keyvault", "delete-policy", "-n", "KvPolicy", "--object-id", reader["id"])
    assert removed.json()["properties"]["accessPolicies"] == [creator]
    bad = az("keyvault", "set-policy", "-n", "KvPolicy", "--object-id", reader["id"],
             "--secret-permissions", "fly")
    assert bad.exit_code == 2
    assert "argument --secret-permissions: invalid choice: 'fly'" in bad.stderr


def _local_object_id(cloud: LocalCloud) -> str:
    import json

    return json.loads((cloud.home / "cloud" / "cli-credential.json").read_text())["objectId"]


def test_update(az: Az, cloud: LocalCloud, sub: str) -> None:
    az.ok("keyvault", "create", "-n", "KvUpdate", "-g", "kv-rg")
    updated = az.ok("keyvault", "update", "-n", "KvUpdate", "--enable-rbac-authorization",
                    "false", "--enable-purge-protection", "true")
    assert updated.stdout == as_json(_vault(cloud, sub, "KvUpdate", rbac=False,
                                            purge_protection=True))
    bad = az("keyvault", "update", "-n", "KvUpdate", "--enable-rbac-authorization", "maybe")
    assert bad.exit_code == 2
    assert bad.stderr == "ERROR: argument --enable-rbac-authorization: invalid boolean " \
                         "value: 'maybe'\n"


def test_delete_list_deleted_recover_purge(az: Az, cloud: LocalCloud, sub: str) -> None:
    az.ok("keyvault", "create", "-n", "KvLife", "-g", "kv-rg")
    assert az.ok("keyvault", "delete", "-n", "KvLife").stdout == ""
    deleted = az.ok("keyvault", "list-deleted", "--query", "[?name=='KvLife']").json()
    assert len(deleted) == 1
    assert deleted[0]["id"] == f"/subscriptions/{sub}/providers/Microsoft.KeyVault/" \
                               "locations/eastus/deletedVaults/KvLife"
    assert deleted[0]["properties"]["vaultId"] == _vault(cloud, sub, "KvLife")["id"]
    assert sorted(deleted[0]["properties"]) == [
        "deletionDate", "location", "purgeProtectionEnabled", "scheduledPurgeDate", "tags",
        "vaultId"]
    conflict = az("keyvault", "create", "-n", "KvLife", "-g", "kv-rg")
    assert conflict.exit_code == 1
    assert conflict.stderr.startswith(
        "ERROR: (ConflictError) A vault with the same name already exists in deleted state. ")
    assert az.ok("keyvault", "recover", "-n", "KvLife").stdout == \
        as_json(_vault(cloud, sub, "KvLife"))
    az.ok("keyvault", "delete", "-n", "KvLife")
    assert az.ok("keyvault", "purge", "-n", "KvLife").stdout == ""
    assert az.ok("keyvault", "list-deleted", "--query", "[?name=='KvLife']").stdout == "[]\n"
    missing = az("keyvault", "purge", "-n", "KvLife")
    assert (missing.exit_code, missing.stderr) == (
        1, "ERROR: No deleted Vault or HSM was found with name 'KvLife'\n")


def test_missing_and_conflicting_vaults(az: Az) -> None:
    with_group = az("keyvault", "show", "-n", "KvNowhere", "-g", "kv-rg")
    assert with_group.exit_code == 3
    assert with_group.stderr.startswith(
        "ERROR: (ResourceNotFound) The Resource 'Microsoft.KeyVault/vaults/KvNowhere' under "
        "resource group 'kv-rg' was not found.")
    without_group = az("keyvault", "show", "-n", "KvNowhere")
    assert (without_group.exit_code, without_group.stderr) == (
        1, "ERROR: The Vault 'KvNowhere' not found within subscription.\n")
    az.ok("group", "create", "-n", "kv-rg-2", "-l", "eastus")
    az.ok("keyvault", "create", "-n", "KvTaken", "-g", "kv-rg")
    taken = az("keyvault", "create", "-n", "KvTaken", "-g", "kv-rg-2")
    assert taken.exit_code == 1
    assert taken.stderr.startswith("ERROR: (VaultAlreadyExists) The vault name 'KvTaken' is "
                                   "already in use.")
    invalid = az("keyvault", "create", "-n", "a--b", "-g", "kv-rg")
    assert invalid.exit_code == 1
    assert invalid.stderr.startswith("ERROR: (VaultNameNotValid) The vault name 'a--b' is "
                                     "invalid.")
