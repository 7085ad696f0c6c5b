"""A local world for the provider's real-world cases (``tests/cases``).

Local cloud, vault, node VM and the provider gRPC server.

One world per test module (module-scoped): the in-process local cloud, vault ``MyKeyVault``
(Azure RBAC), a VMSS VM with two user-assigned identities (``kubelet`` holds *Key Vault Secrets
User*, *Key Vault Certificate User* and *Key Vault Crypto User* on the vault unless a module
says otherwise; ``monitoring`` holds nothing), and the real provider gRPC server on a unix
socket, started exactly as ``kvcsi up`` starts it (contract §4: ``AzureStackCloud`` with
``AZURE_ENVIRONMENT_FILEPATH``, the VM's IMDS in ``AZURE_POD_IDENTITY_AUTHORITY_HOST``, the
local CA in ``REQUESTS_CA_BUNDLE``). Every Key Vault and token call the provider makes goes
through a counting gateway, so a test can assert that a refusal happened before any.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from azure.identity import ClientSecretCredential
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.cloud.arm import ids, rbac, roles
from kvcsi.provider.credentials import CredentialCache
from kvcsi.provider.keyvault import AzureKeyVault, MeteredKeyVault
from kvcsi.provider.mount import ProviderSettings
from kvcsi.provider.server import WARNING_METADATA_KEY, CSIDriverProviderServicer, start_server
from support.local_cloud import LocalCloud, ScaleSetVm, running_local_cloud

VAULT = "MyKeyVault"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
CERTIFICATE_USER = "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
POD = {"csi.storage.k8s.io/pod.name": "mypod", "csi.storage.k8s.io/pod.namespace": "myns",
       "csi.storage.k8s.io/pod.uid": "9f0c7e52-0000-4000-8000-000000000001",
       "csi.storage.k8s.io/serviceAccount.name": "default",
       "csi.storage.k8s.io/ephemeral": "true", "secretProviderClass": "my-spc"}


def element(**fields: str) -> str:
    """One ``objects`` element as a YAML block (``objectName: ...`` lines)."""
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def objects_yaml(*elements: str) -> str:
    text = "array:\n"
    for body in elements:
        text += "  - |\n" + "".join(f"    {line}\n" for line in body.splitlines())
    return text


@dataclass
class MountOutcome:
    """What the driver would get back from one Mount call."""

    files: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    versions: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    code: grpc.StatusCode | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class World:
    cloud: LocalCloud
    vault: dict[str, Any]
    vm: ScaleSetVm
    stub: Any
    gateway_calls: list[tuple[str, str, str]]
    credentials: CredentialCache
    gateway: Any
    socket_dir: Path

    def with_stub(self, stub: Any) -> World:
        """The same world, talking to another provider server."""
        return dataclasses.replace(self, stub=stub)

    @property
    def kubelet_client_id(self) -> str:
        return self.vm.user_assigned[0]["properties"]["clientId"]

    @property
    def monitoring_client_id(self) -> str:
        return self.vm.user_assigned[1]["properties"]["clientId"]

    def principal_of(self, index: int) -> str:
        return self.vm.user_assigned[index]["properties"]["principalId"]

    def assign(self, role: str, principal_id: str, scope: str | None = None) -> None:
        assign_role(self.cloud, scope or self.vault["id"], role, principal_id)

    def admin_credential(self) -> ClientSecretCredential:
        account = json.loads((self.cloud.home / "cloud" / "cli-credential.json").read_text())
        return ClientSecretCredential(account["tenantId"], account["clientId"],
                                      account["clientSecret"], authority=self.cloud.authority,
                                      disable_instance_discovery=True)

    def secrets(self) -> SecretClient:
        return SecretClient(self.cloud.vault_url(VAULT), self.admin_credential())

    def keys(self) -> KeyClient:
        return KeyClient(self.cloud.vault_url(VAULT), self.admin_credential())

    def certificates(self) -> CertificateClient:
        return CertificateClient(self.cloud.vault_url(VAULT), self.admin_credential())

    def parameters(self, **changes: str | None) -> dict[str, str]:
        """The cases' base SPC: VM managed identity as the kubelet identity."""
        values = {"keyvaultName": VAULT, "tenantId": self.cloud.tenant_id,
                  "useVMManagedIdentity": "true",
                  "userAssignedIdentityID": self.kubelet_client_id}
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        return values

    def mount(self, parameters: dict[str, str], objects: str,
              secrets: dict[str, str] | None = None, permission: str = "420") -> MountOutcome:
        attributes = {**parameters, **POD, "objects": objects}
        request = provider_pb2.MountRequest(
            attributes=json.dumps(attributes),
            secrets="null" if secrets is None else json.dumps(secrets), permission=permission)
        try:
            reply, call = self.stub.Mount.with_call(request, timeout=30)
        except grpc.RpcError as error:
            return MountOutcome(error=error.details(), code=error.code(),
                                warnings=_warnings(error.trailing_metadata()))
        return MountOutcome(
            files={f.path: (f.mode, f.contents) for f in reply.files},
            versions=[(v.id, v.version) for v in reply.object_version],
            warnings=_warnings(call.trailing_metadata()))


def _warnings(metadata: Any) -> list[str]:
    return [value.decode("utf-8") for key, value in (metadata or ())
            if key == WARNING_METADATA_KEY]


def assign_role(cloud: LocalCloud, scope: str, role_guid: str, principal_id: str) -> None:
    name = str(uuid.uuid4())
    assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    cloud.store.put("arm", ids.key(assignment_id), {
        "id": assignment_id, "name": name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": roles.role_definition_id(cloud.seed.subscription_id,
                                                                    role_guid),
                       "principalId": principal_id, "principalType": "ServicePrincipal",
                       "scope": scope}}, parent=rbac.assignments_collection(scope))


@contextmanager
def provider_stub(socket_dir: Path, gateway: Any, settings: ProviderSettings) -> Iterator[Any]:
    """Another provider server (e.g. with other flags) over the same local cloud."""
    socket_path = socket_dir / f"azure-{uuid.uuid4().hex[:8]}.sock"
    server = start_server(f"unix://{socket_path}", CSIDriverProviderServicer(gateway, settings))
    try:
        with grpc.insecure_channel(f"unix:{socket_path}") as channel:
            yield provider_pb2_grpc.CSIDriverProviderStub(channel)
    finally:
        server.stop(grace=None)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("kvcsi-home")
    with running_local_cloud(home) as cloud, pytest.MonkeyPatch.context() as patch:
        vault = cloud.seed.vault(VAULT)
        vm = cloud.seed.scale_set_vm(user_assigned=2)
        for role in (SECRETS_USER, CERTIFICATE_USER, CRYPTO_USER):
            assign_role(cloud, vault["id"], role, vm.user_assigned[0]["properties"]["principalId"])
        patch.setenv("REQUESTS_CA_BUNDLE", cloud.ca_bundle)
        patch.setenv("AZURE_ENVIRONMENT_FILEPATH", str(home / "cloud" / "environment.json"))
        patch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)
        calls: list[tuple[str, str, str]] = []
        credentials = CredentialCache()
        gateway = MeteredKeyVault(AzureKeyVault(credentials),
                                  lambda kind, name, error, _: calls.append((kind, name, error)))
        socket_dir = Path(tmp_path_factory.mktemp("sock"))
        with provider_stub(socket_dir, gateway,
                           ProviderSettings(default_cloud="AzureStackCloud")) as stub:
            yield World(cloud, vault, vm, stub, calls, credentials, gateway, socket_dir)
