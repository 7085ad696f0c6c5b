"""A real local cloud for tests: started in a background thread on ephemeral ports, with
helpers that seed the documents other packages create (contract §3.1) straight into its store.

Use from any test directory (``tests/`` is on ``sys.path`` through the root conftest)::

    from support.local_cloud import LocalCloud, running_local_cloud

    def test_x(tmp_path):
        with running_local_cloud(tmp_path / "home") as cloud:
            vault = cloud.seed.vault("myvault")
            ...

or with the fixtures ``local_cloud`` (per test) / ``shared_local_cloud`` (per module), which
``tests/cloud/conftest.py`` re-exports; other directories import them into their conftest::

    from support.local_cloud import local_cloud  # noqa: F401  (pytest fixture)

The in-process cloud needs ``*.localhost`` to resolve in this process; the root conftest
already calls ``kvcsi.netrules.install_localhost_resolution()``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kvcsi.cloud.arm import app_secrets
from kvcsi.cloud.runner import InProcessCloud
from kvcsi.cloud.store import CloudStore

DEFAULT_RESOURCE_GROUP = "rg1"
DEFAULT_LOCATION = "westeurope"


@dataclass(frozen=True)
class AppCredential:
    """A service principal with a client secret (for ``ClientSecretCredential``)."""

    tenant_id: str
    client_id: str
    object_id: str
    client_secret: str


@dataclass(frozen=True)
class ScaleSetVm:
    """One VMSS VM: its vmId, the IMDS base to give a process on it, and the identities."""

    vm_id: str
    imds_endpoint: str
    vmss: dict[str, Any]
    system_principal: dict[str, Any] | None
    user_assigned: list[dict[str, Any]] = field(default_factory=list)


class CloudSeed:
    """Writes ARM and directory documents in the contract's shapes (§3.1)."""

    def __init__(self, store: CloudStore, endpoints: dict[str, Any]) -> None:
        self.store = store
        self.endpoints = endpoints
        self.tenant_id: str = endpoints["tenant_id"]
        self.subscription_id: str = endpoints["subscription_id"] or str(uuid.uuid4())

    def _put_arm(self, resource: dict[str, Any], parent: str) -> dict[str, Any]:
        self.store.put("arm", resource["id"].lower(), resource, parent=parent.lower())
        return resource

    def group_id(self, resource_group: str = DEFAULT_RESOURCE_GROUP) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{resource_group}"

    def principal(self, display_name: str, *, managed_identity_of: str | None = None
                  ) -> dict[str, Any]:
        principal = {
            "id": str(uuid.uuid4()), "appId": str(uuid.uuid4()), "displayName": display_name,
            "servicePrincipalType": "ManagedIdentity" if managed_identity_of else "Application",
            "alternativeNames": [managed_identity_of] if managed_identity_of else [],
            "tenantId": self.tenant_id,
        }
        self.store.put("principal", principal["id"], principal)
        return principal

    def app(self, display_name: str = "test-app") -> AppCredential:
        principal = self.principal(display_name)
        _, secret = app_secrets.add_client_secret(self.store, principal["appId"])
        return AppCredential(self.tenant_id, principal["appId"], principal["id"], secret)

    def vault(self, name: str, *, rbac: bool = True,
              access_policies: list[dict[str, Any]] | None = None,
              resource_group: str = DEFAULT_RESOURCE_GROUP,
              location: str = DEFAULT_LOCATION) -> dict[str, Any]:
        group = self.group_id(resource_group)
        vault_id = f"{group}/providers/Microsoft.KeyVault/vaults/{name}"
        return self._put_arm({
            "id": vault_id, "name": name, "type": "Microsoft.KeyVault/vaults",
            "location": location, "tags": {},
            "properties": {
                "vaultUri": f"https://{name.lower()}.{self.endpoints['keyvault_dns_suffix']}/",
                "tenantId": self.tenant_id, "enableRbacAuthorization": rbac,
                "accessPolicies": access_policies or [],
                "sku": {"family": "A", "name": "standard"}, "enableSoftDelete": True,
            },
        }, group)

    def user_assigned_identity(self, name: str,
                               resource_group: str = DEFAULT_RESOURCE_GROUP) -> dict[str, Any]:
        group = self.group_id(resource_group)
        identity_id = (f"{group}/providers/Microsoft.ManagedIdentity/"
                       f"userAssignedIdentities/{name}")
        principal = self.principal(name, managed_identity_of=identity_id)
        return self._put_arm({
            "id": identity_id, "name": name, "location": DEFAULT_LOCATION, "tags": {},
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "properties": {"tenantId": self.tenant_id, "principalId": principal["id"],
                           "clientId": principal["appId"]},
        }, group)

    def scale_set_vm(self, *, system_assigned: bool = False, user_assigned: int = 0,
                     pool: str = "nodepool1") -> ScaleSetVm:
        """A VMSS with one VM and the requested identities."""
        group = self.group_id(f"MC_{DEFAULT_RESOURCE_GROUP}_cluster_{DEFAULT_LOCATION}")
        vmss_name = f"aks-{pool}-{uuid.uuid4().int % 10**8:08d}-vmss"
        vmss_id = f"{group}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss_name}"
        identities = [self.user_assigned_identity(f"{vmss_name}-id{i}")
                      for i in range(user_assigned)]
        system_principal = (self.principal(vmss_name, managed_identity_of=vmss_id)
                            if system_assigned else None)
        kinds = (["SystemAssigned"] if system_assigned else []) + (
            ["UserAssigned"] if user_assigned else [])
        identity: dict[str, Any] = {"type": ", ".join(kinds) or "None"}
        if system_principal is not None:
            identity.update(principalId=system_principal["id"], tenantId=self.tenant_id)
        if identities:
            identity["userAssignedIdentities"] = {
                ua["id"]: {"principalId": ua["properties"]["principalId"],
                           "clientId": ua["properties"]["clientId"]} for ua in identities}
        vmss = self._put_arm({
            "id": vmss_id, "name": vmss_name, "location": DEFAULT_LOCATION, "tags": {},
            "type": "Microsoft.Compute/virtualMachineScaleSets", "identity": identity,
            "properties": {"provisioningState": "Succeeded"},
        }, group)
        vm_id = str(uuid.uuid4())
        self._put_arm({
            "id": f"{vmss_id}/virtualMachines/0", "name": f"{vmss_name}_0", "instanceId": "0",
            "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
            "location": DEFAULT_LOCATION,
            "properties": {"vmId": vm_id,
                           "osProfile": {"computerName": f"{vmss_name}000000"}},
        }, vmss_id)
        return ScaleSetVm(vm_id, f"{self.endpoints['imds_base']}/{vm_id}", vmss,
                          system_principal, identities)


@dataclass
class LocalCloud:
    """A running local cloud: its ``endpoints.json`` content, state dir and seeding helpers."""

    home: Path
    endpoints: dict[str, Any]
    runner: InProcessCloud
    seed: CloudSeed

    @property
    def https_port(self) -> int:
        return self.endpoints["https_port"]

    @property
    def ca_bundle(self) -> str:
        return self.endpoints["ca_bundle"]

    @property
    def tenant_id(self) -> str:
        return self.endpoints["tenant_id"]

    @property
    def authority(self) -> str:
        """``https://localhost:{port}`` (what ``ClientSecretCredential(authority=...)`` takes)."""
        return self.endpoints["authority"].rstrip("/")

    @property
    def keyvault_scope(self) -> str:
        return self.endpoints["keyvault_resource"] + "/.default"

    @property
    def store(self) -> CloudStore:
        return self.runner.context.store

    def vault_url(self, name: str) -> str:
        return f"https://{name.lower()}.{self.endpoints['keyvault_dns_suffix']}"


@contextmanager
def running_local_cloud(home: Path, **options: Any) -> Iterator[LocalCloud]:
    """Start a local cloud in ``home`` (ephemeral ports); stop it on exit.

    ``options`` go to :class:`kvcsi.cloud.runner.InProcessCloud` (e.g. ``keyvault_delay_ms``).
    """
    with InProcessCloud(home, **options) as runner:
        endpoints = runner.endpoints
        yield LocalCloud(home=Path(home), endpoints=endpoints, runner=runner,
                         seed=CloudSeed(runner.context.store, endpoints))


@pytest.fixture
def local_cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    """A fresh local cloud per test, state dir ``tmp_path / "kvcsi-home"``."""
    with running_local_cloud(tmp_path / "kvcsi-home") as cloud:
        yield cloud


@pytest.fixture(scope="module")
def shared_local_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """One local cloud for every test of a module (seed unique names per test)."""
    with running_local_cloud(tmp_path_factory.mktemp("kvcsi-home")) as cloud:
        yield cloud
