"""The unmodified azure-keyvault-secrets SecretClient against the local Key Vault, with
azure-identity's ClientSecretCredential and ManagedIdentityCredential (IMDS of a VM)."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential, ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
SET_SECRET = "Microsoft.KeyVault/vaults/secrets/setSecret/action"
READ_METADATA = "Microsoft.KeyVault/vaults/secrets/readMetadata/action"


def _client(cloud, vault_name, credential) -> SecretClient:
    return SecretClient(cloud.vault_url(vault_name), credential,
                        connection_verify=cloud.ca_bundle)


def test_secret_round_trip_with_client_secret_credential(shared_local_cloud, fake_rbac):
    cloud = shared_local_cloud
    vault = cloud.seed.vault("SdkVault")
    app = cloud.seed.app()
    for action in (GET_SECRET, SET_SECRET, READ_METADATA):
        fake_rbac.grant(app.object_id, action, vault["id"])
    credential = ClientSecretCredential(app.tenant_id, app.client_id, app.client_secret,
                                        authority=cloud.authority,
                                        disable_instance_discovery=True,
                                        connection_verify=cloud.ca_bundle)
    client = _client(cloud, "SdkVault", credential)

    first = client.set_secret("db-password", "hunter2", content_type="text/plain",
                              tags={"env": "dev"})
    second = client.set_secret("DB-Password", "hunter3")

    assert first.value == "hunter2"
    assert first.properties.content_type == "text/plain"
    assert first.properties.tags == {"env": "dev"}
    assert first.properties.vault_url == cloud.vault_url("sdkvault")
    assert first.name == second.name == "db-password"
    assert client.get_secret("db-password").value == "hunter3"
    assert client.get_secret("db-password", first.properties.version).value == "hunter2"
    versions = sorted(p.version for p in client.list_properties_of_secret_versions("db-password"))
    assert versions == sorted([first.properties.version, second.properties.version])
    assert [p.name for p in client.list_properties_of_secrets()] == ["db-password"]
    with pytest.raises(ResourceNotFoundError, match="SecretNotFound"):
        client.get_secret("missing")


def test_node_identity_reads_through_imds(shared_local_cloud, fake_rbac, monkeypatch):
    cloud = shared_local_cloud
    vault = cloud.seed.vault("NodeVault")
    writer = cloud.seed.app("writer")
    fake_rbac.grant(writer.object_id, SET_SECRET, vault["id"])
    writer_client = _client(cloud, "NodeVault", ClientSecretCredential(
        writer.tenant_id, writer.client_id, writer.client_secret, authority=cloud.authority,
        disable_instance_discovery=True, connection_verify=cloud.ca_bundle))
    writer_client.set_secret("app-config", "from-the-vault")

    vm = cloud.seed.scale_set_vm(user_assigned=1)
    kubelet_identity = vm.user_assigned[0]
    fake_rbac.grant(kubelet_identity["properties"]["principalId"], GET_SECRET, vault["id"])
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)
    credential = ManagedIdentityCredential(client_id=kubelet_identity["properties"]["clientId"])
    client = _client(cloud, "NodeVault", credential)

    assert client.get_secret("app-config").value == "from-the-vault"
    with pytest.raises(HttpResponseError) as denied:
        client.set_secret("app-config", "overwrite")
    assert denied.value.status_code == 403
    assert "ForbiddenByRbac" in str(denied.value)


def test_local_account_uses_real_rbac(local_cloud):
    """With the ARM package's RBAC and bootstrap: the local account is Key Vault Administrator
    on the default subscription, so it can write to any vault there."""
    pytest.importorskip("kvcsi.cloud.arm.rbac")
    pytest.importorskip("kvcsi.cloud.arm.bootstrap")
    cloud = local_cloud
    account = json.loads((cloud.home / "cloud" / "cli-credential.json").read_text())
    cloud.seed.vault("AdminVault")
    stranger = cloud.seed.app("stranger")

    def client_for(tenant_id, client_id, secret):
        return _client(cloud, "AdminVault", ClientSecretCredential(
            tenant_id, client_id, secret, authority=cloud.authority,
            disable_instance_discovery=True, connection_verify=cloud.ca_bundle))

    admin = client_for(account["tenantId"], account["clientId"], account["clientSecret"])
    assert admin.set_secret("s", "v").value == "v"
    with pytest.raises(HttpResponseError) as denied:
        client_for(stranger.tenant_id, stranger.client_id, stranger.client_secret).get_secret("s")
    assert denied.value.status_code == 403
