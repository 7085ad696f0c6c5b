"""Which resources (token audiences) the local token service issues tokens for.

Entra answers AADSTS500011 for a resource no service principal in the tenant represents.
Locally there are three resources (contract §1): Key Vault, ARM and Graph, each accepted
with or without a trailing ``/``, plus the AKS API server application
(``6dae42f8-4368-4678-94ff-3960e28e3630``, which the local node uses as its kubelet identity
to call a cluster's TokenRequest endpoint). A v2 ``scope`` is a resource followed by ``/.default``.
"""

from __future__ import annotations

from kvcsi.cloud.endpoints import CloudEndpoints

DEFAULT_SCOPE_SUFFIX = "/.default"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"


def known_resources(endpoints: CloudEndpoints) -> set[str]:
    bases = {
        endpoints.keyvault_resource,
        endpoints.resource_manager.rstrip("/"),
        endpoints.graph.rstrip("/"),
    }
    return bases | {base + "/" for base in bases} | {AKS_SERVER_APP_ID}


def is_known_resource(resource: str, endpoints: CloudEndpoints) -> bool:
    return resource in known_resources(endpoints)


def keyvault_audiences(endpoints: CloudEndpoints) -> list[str]:
    """Audiences Key Vault accepts; the first is the one its error texts name."""
    return [endpoints.keyvault_resource, endpoints.keyvault_resource + "/"]


def resource_from_scopes(scope_parameter: str) -> str | None:
    """The resource of a client-credentials ``scope`` (``{resource}/.default``), else None."""
    scopes = [s for s in scope_parameter.split() if s not in RESERVED_SCOPES]
    if len(scopes) != 1 or not scopes[0].endswith(DEFAULT_SCOPE_SUFFIX):
        return None
    return scopes[0][: -len(DEFAULT_SCOPE_SUFFIX)]
