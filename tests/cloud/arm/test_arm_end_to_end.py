"""The local account of contract §3.4 over real HTTPS: an ARM token from the token service,
a resource group and a vault through ARM, then a secret through the unmodified Key Vault SDK
(Key Vault Administrator at subscription scope makes that allowed)."""

from __future__ import annotations

import json

import requests
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient


def test_local_account_creates_a_vault_and_writes_a_secret(local_cloud) -> None:
    cloud = local_cloud
    credential_file = cloud.home / "cloud" / "cli-credential.json"
    account = json.loads(credential_file.read_text())
    credential = ClientSecretCredential(
        account["tenantId"], account["clientId"], account["clientSecret"],
        authority=cloud.authority, disable_instance_discovery=True,
        connection_verify=cloud.ca_bundle)
    arm = cloud.endpoints["resource_manager"]
    token = credential.get_token(arm + ".default").token
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    sub = cloud.endpoints["subscription_id"]
    group = session.put(f"{arm}subscriptions/{sub}/resourcegroups/e2e",
                        params={"api-version": "2022-09-01"}, json={"location": "eastus"},
                        verify=cloud.ca_bundle, timeout=10)
    assert group.status_code == 201
    vault = session.put(f"{arm}subscriptions/{sub}/resourceGroups/e2e/providers/"
                        "Microsoft.KeyVault/vaults/e2e-vault",
                        params={"api-version": "2023-07-01"}, json={"location": "eastus"},
                        verify=cloud.ca_bundle, timeout=10)
    assert vault.status_code == 201
    vault_uri = vault.json()["properties"]["vaultUri"]
    assert vault_uri == f"https://e2e-vault.vault.localhost:{cloud.https_port}/"

    client = SecretClient(vault_uri, credential, connection_verify=cloud.ca_bundle)
    client.set_secret("greeting", "hello")
    assert client.get_secret("greeting").value == "hello"

    wrong_audience = credential.get_token(cloud.keyvault_scope).token
    refused = requests.get(f"{arm}subscriptions/{sub}", params={"api-version": "2022-09-01"},
                           headers={"Authorization": f"Bearer {wrong_audience}"},
                           verify=cloud.ca_bundle, timeout=10)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
