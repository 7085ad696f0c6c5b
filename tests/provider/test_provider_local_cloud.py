"""End to end against kvcsi's local cloud: the provider's gRPC Mount fetches a real secret
through IMDS (the VM's user-assigned identity) and Key Vault with RBAC, over HTTPS.

The provider gets exactly what ``kvcsi up`` gives it (contract §4): ``AzureStackCloud`` with
``AZURE_ENVIRONMENT_FILEPATH``, the VM's IMDS address in ``AZURE_POD_IDENTITY_AUTHORITY_HOST``
and the local CA in ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient
from support.local_cloud import LocalCloud, local_cloud  # noqa: F401  (pytest fixture)

from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.cloud.arm import ids, rbac, roles
from kvcsi.provider.keyvault import AzureKeyVault
from kvcsi.provider.mount import ProviderSettings
from kvcsi.provider.server import CSIDriverProviderServicer, start_server

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
VAULT = "kvcsi-e2e"


def assign_role(cloud: LocalCloud, scope: str, role_guid: str, principal_id: str) -> None:
    name = str(uuid.uuid4())
    assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    cloud.store.put("arm", ids.key(assignment_id), {
        "id": assignment_id, "name": name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": roles.role_definition_id(cloud.seed.subscription_id,
                                                                    role_guid),
                       "principalId": principal_id, "principalType": "ServicePrincipal",
                       "scope": scope}}, parent=rbac.assignments_collection(scope))


def set_secret(cloud: LocalCloud, name: str, value: str) -> str:
    """Store a secret as the local signed-in account does (``az keyvault secret set``)."""
    account = json.loads((cloud.home / "cloud" / "cli-credential.json").read_text())
    credential = ClientSecretCredential(account["tenantId"], account["clientId"],
                                        account["clientSecret"], authority=cloud.authority,
                                        disable_instance_discovery=True)
    client = SecretClient(cloud.vault_url(VAULT), credential)
    return client.set_secret(name, value).properties.version or ""


@pytest.fixture
def provider(local_cloud: LocalCloud, tmp_path: Path,  # noqa: F811
             monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalCloud, Any, Any]]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", local_cloud.ca_bundle)
    monkeypatch.setenv("AZURE_ENVIRONMENT_FILEPATH",
                       str(local_cloud.home / "cloud" / "environment.json"))
    vault = local_cloud.seed.vault(VAULT)
    vm = local_cloud.seed.scale_set_vm(user_assigned=2)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)
    socket_path = tmp_path / "azure.sock"
    server = start_server(f"unix://{socket_path}", CSIDriverProviderServicer(
        AzureKeyVault(), ProviderSettings(default_cloud="AzureStackCloud")))
    try:
        with grpc.insecure_channel(f"unix:{socket_path}") as channel:
            yield local_cloud, (vault, vm), provider_pb2_grpc.CSIDriverProviderStub(channel)
    finally:
        server.stop(grace=None)


def mount_request(cloud: LocalCloud, client_id: str) -> Any:
    objects = "array:\n  - |\n    objectName: db-password\n    objectType: secret\n"
    return provider_pb2.MountRequest(attributes=json.dumps({
        "csi.storage.k8s.io/pod.name": "app-0", "csi.storage.k8s.io/pod.namespace": "default",
        "keyvaultName": VAULT, "tenantID": cloud.tenant_id, "useVMManagedIdentity": "true",
        "userAssignedIdentityID": client_id, "objects": objects}),
        secrets="null", permission="420")


def test_mount_fetches_a_real_secret_through_imds(provider: tuple[LocalCloud, Any, Any]) -> None:
    cloud, (vault, vm), stub = provider
    identity = vm.user_assigned[0]["properties"]
    assign_role(cloud, vault["id"], KEY_VAULT_SECRETS_USER, identity["principalId"])
    version = set_secret(cloud, "db-password", "Tr0ub4dor&3")

    reply = stub.Mount(mount_request(cloud, identity["clientId"]), timeout=30)
    assert [(f.path, f.mode, f.contents) for f in reply.files] == [
        ("db-password", 420, b"Tr0ub4dor&3")]
    assert [(v.id, v.version) for v in reply.object_version] == [("secret/db-password", version)]


def test_mount_without_role_shows_forbidden_by_rbac(provider: tuple[LocalCloud, Any, Any]
                                                    ) -> None:
    cloud, (_, vm), stub = provider
    set_secret(cloud, "db-password", "Tr0ub4dor&3")
    with pytest.raises(grpc.RpcError) as caught:
        stub.Mount(mount_request(cloud, vm.user_assigned[1]["properties"]["clientId"]),
                   timeout=30)
    details = caught.value.details()
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert details.startswith(
        "failed to mount objects, error: failed to get objectType:secret, objectName:db-password, "
        f"objectVersion:: GET {cloud.vault_url(VAULT)}/secrets/db-password/\n")
    assert "RESPONSE 403: 403 Forbidden" in details and "ForbiddenByRbac" in details
    assert "Tr0ub4dor" not in details


def test_mount_with_several_identities_and_no_client_id(provider: tuple[LocalCloud, Any, Any]
                                                        ) -> None:
    cloud, _, stub = provider
    with pytest.raises(grpc.RpcError) as caught:
        stub.Mount(mount_request(cloud, ""), timeout=30)
    details = caught.value.details()
    assert details.startswith(
        "failed to mount objects, error: failed to get objectType:secret, objectName:db-password, "
        "objectVersion:: ManagedIdentityCredential authentication failed: IMDS endpoint "
        "http://127.0.0.1:")
    assert "Multiple user assigned identities exist" in details


def test_mount_as_service_principal_from_node_publish_secret(
        provider: tuple[LocalCloud, Any, Any]) -> None:
    cloud, (vault, _), stub = provider
    app = cloud.seed.app("spc-reader")
    assign_role(cloud, vault["id"], KEY_VAULT_SECRETS_USER, app.object_id)
    version = set_secret(cloud, "db-password", "via-service-principal")
    request = mount_request(cloud, "")
    attributes = json.loads(request.attributes)
    del attributes["useVMManagedIdentity"]
    request.attributes = json.dumps(attributes)
    request.secrets = json.dumps({"clientid": app.client_id, "clientsecret": app.client_secret})
    reply = stub.Mount(request, timeout=30)
    assert [(f.path, f.contents) for f in reply.files] == [
        ("db-password", b"via-service-principal")]
    assert [(v.id, v.version) for v in reply.object_version] == [("secret/db-password", version)]
