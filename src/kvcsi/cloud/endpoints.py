"""Where the local cloud listens, and the two files that tell other processes (contract §3).

``CloudEndpoints`` derives every URL from the two ports; ``endpoints_document`` and
``environment_document`` build ``cloud/endpoints.json`` and ``cloud/environment.json`` (the
go-autorest environment-file shape the Azure provider reads for ``AzureStackCloud``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcsi.cloud.statefiles import cloud_dir

BIND_ADDRESS = "127.0.0.1"
DEFAULT_HTTPS_PORT = 8443
DEFAULT_IMDS_PORT = 8480
ENVIRONMENT_NAME = "KvcsiLocal"
ENDPOINTS_FILE = "endpoints.json"
ENVIRONMENT_FILE = "environment.json"


@dataclass(frozen=True)
class CloudEndpoints:
    """The public addresses of one running local cloud.

    Readable as attributes or, with the ``endpoints.json`` field names, as a mapping
    (``endpoints["graph"]``, ``endpoints.get("tenant_id")``); the ids and the CA path are set
    once the state directory is initialised.
    """

    https_port: int
    imds_port: int
    tenant_id: str | None = None
    subscription_id: str | None = None
    ca_bundle: str | None = None

    @property
    def authority(self) -> str:
        return f"https://localhost:{self.https_port}/"

    @property
    def resource_manager(self) -> str:
        return f"https://management.localhost:{self.https_port}/"

    @property
    def graph(self) -> str:
        return f"https://graph.localhost:{self.https_port}/"

    @property
    def keyvault_dns_suffix(self) -> str:
        return f"vault.localhost:{self.https_port}"

    @property
    def keyvault_resource(self) -> str:
        return f"https://vault.localhost:{self.https_port}"

    @property
    def imds_base(self) -> str:
        return f"http://{BIND_ADDRESS}:{self.imds_port}/vms"

    def as_dict(self) -> dict[str, Any]:
        """The fields of ``endpoints.json`` known so far (all but ``pid``)."""
        known = {
            "https_port": self.https_port,
            "imds_port": self.imds_port,
            "authority": self.authority,
            "resource_manager": self.resource_manager,
            "graph": self.graph,
            "keyvault_dns_suffix": self.keyvault_dns_suffix,
            "keyvault_resource": self.keyvault_resource,
            "imds_base": self.imds_base,
        }
        optional = {"ca_bundle": self.ca_bundle, "tenant_id": self.tenant_id,
                    "subscription_id": self.subscription_id}
        known.update({key: value for key, value in optional.items() if value is not None})
        return known

    def __getitem__(self, field: str) -> Any:
        """Mapping access with the ``endpoints.json`` field names (``endpoints["graph"]``)."""
        return self.as_dict()[field]

    def get(self, field: str, default: Any = None) -> Any:
        return self.as_dict().get(field, default)

    def vault_uri(self, vault_name: str) -> str:
        return f"https://{vault_name.lower()}.{self.keyvault_dns_suffix}/"

    def imds_endpoint(self, vm_id: str) -> str:
        """The ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` of one VM."""
        return f"{self.imds_base}/{vm_id}"


def endpoints_document(endpoints: CloudEndpoints, *, pid: int) -> dict[str, Any]:
    """``endpoints.json``: every field of ``endpoints`` plus the serving process id."""
    document = {"pid": pid, **endpoints.as_dict()}
    document.setdefault("subscription_id", "")
    return document


def environment_document(endpoints: CloudEndpoints) -> dict[str, Any]:
    return {
        "name": ENVIRONMENT_NAME,
        "activeDirectoryEndpoint": endpoints.authority,
        "resourceManagerEndpoint": endpoints.resource_manager,
        "keyVaultEndpoint": endpoints.keyvault_resource + "/",
        "keyVaultDNSSuffix": endpoints.keyvault_dns_suffix,
        "graphEndpoint": endpoints.graph,
    }


def endpoints_path(home: Path | str) -> Path:
    return cloud_dir(home) / ENDPOINTS_FILE


def environment_path(home: Path | str) -> Path:
    return cloud_dir(home) / ENVIRONMENT_FILE


def read_endpoints(home: Path | str) -> dict[str, Any] | None:
    """The running cloud's ``endpoints.json``, or None when it is not running."""
    try:
        return json.loads(endpoints_path(home).read_text())
    except FileNotFoundError:
        return None
