"""The node identity through IMDS, as the SDK's ManagedIdentityCredential gets it on a VM.

The classic surprise: the kubelet identity holds the role; someone adds a system-assigned
identity to the scale set (``az vmss identity assign``); IMDS now returns the system-assigned
identity by default and Key Vault answers 403 ForbiddenByRbac — unless the token request names
the kubelet identity's client id (``userAssignedIdentityID``).
"""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential, ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
from support.local_cloud import running_local_cloud

from kvcsi.cloud.arm import roles

from .world import assign, attach

VALUE = "node-identity-value"
MULTIPLE = "Multiple user assigned identities exist"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory):
    with running_local_cloud(tmp_path_factory.mktemp("kvcsi-home")) as cloud:
        yield cloud


def _read(cloud, vault_name, imds_endpoint, monkeypatch, client_id=None) -> str:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds_endpoint)
    credential = (ManagedIdentityCredential(client_id=client_id) if client_id
                  else ManagedIdentityCredential())
    client = SecretClient(cloud.vault_url(vault_name), credential,
                          connection_verify=cloud.ca_bundle)
    return client.get_secret("db-password").value


def _seed_vault(cloud, name, reader_principal_id):
    vault = cloud.seed.vault(name)
    assign(cloud.seed, reader_principal_id, roles.KEY_VAULT_SECRETS_USER, vault["id"])
    admin = json.loads((cloud.home / "cloud" / "cli-credential.json").read_text())
    SecretClient(cloud.vault_url(name), ClientSecretCredential(
        admin["tenantId"], admin["clientId"], admin["clientSecret"], authority=cloud.authority,
        disable_instance_discovery=True, connection_verify=cloud.ca_bundle),
        connection_verify=cloud.ca_bundle).set_secret("db-password", VALUE)
    return vault


def test_kubelet_identity_alone_is_the_default(cloud, monkeypatch):
    vm = cloud.seed.scale_set_vm(user_assigned=1)
    kubelet = vm.user_assigned[0]
    _seed_vault(cloud, "nodekv1", kubelet["properties"]["principalId"])

    assert _read(cloud, "nodekv1", vm.imds_endpoint, monkeypatch) == VALUE


def test_system_assigned_identity_added_next_to_the_kubelet_identity(cloud, monkeypatch):
    vm = cloud.seed.scale_set_vm(user_assigned=1)
    kubelet = vm.user_assigned[0]
    _seed_vault(cloud, "nodekv2", kubelet["properties"]["principalId"])
    system = attach(cloud.seed, vm.vmss, system_assigned=True)

    with pytest.raises(HttpResponseError) as denied:
        _read(cloud, "nodekv2", vm.imds_endpoint, monkeypatch)
    body = json.loads(denied.value.response.text())
    assert denied.value.status_code == 403
    assert body["error"]["innererror"]["code"] == "ForbiddenByRbac"
    assert f"oid={system['id']};" in body["error"]["message"]

    by_client_id = _read(cloud, "nodekv2", vm.imds_endpoint, monkeypatch,
                         client_id=kubelet["properties"]["clientId"])
    assert by_client_id == VALUE


def test_two_user_assigned_identities_need_a_client_id(cloud, monkeypatch):
    vm = cloud.seed.scale_set_vm(user_assigned=1)
    kubelet = vm.user_assigned[0]
    _seed_vault(cloud, "nodekv3", kubelet["properties"]["principalId"])
    attach(cloud.seed, vm.vmss,
           identity=cloud.seed.user_assigned_identity("azurekeyvaultsecretsprovider-c1"))

    with pytest.raises(ClientAuthenticationError, match=MULTIPLE):
        _read(cloud, "nodekv3", vm.imds_endpoint, monkeypatch)
    assert _read(cloud, "nodekv3", vm.imds_endpoint, monkeypatch,
                 client_id=kubelet["properties"]["clientId"]) == VALUE


def test_add_on_identity_holds_the_role_but_the_kubelet_identity_is_used(cloud, monkeypatch):
    vm = cloud.seed.scale_set_vm(user_assigned=1)
    kubelet = vm.user_assigned[0]
    addon = cloud.seed.user_assigned_identity("azurekeyvaultsecretsprovider-c2")
    attach(cloud.seed, vm.vmss, identity=addon)
    _seed_vault(cloud, "nodekv4", addon["properties"]["principalId"])

    with pytest.raises(HttpResponseError) as denied:
        _read(cloud, "nodekv4", vm.imds_endpoint, monkeypatch,
              client_id=kubelet["properties"]["clientId"])
    assert denied.value.status_code == 403
    assert _read(cloud, "nodekv4", vm.imds_endpoint, monkeypatch,
                 client_id=addon["properties"]["clientId"]) == VALUE
