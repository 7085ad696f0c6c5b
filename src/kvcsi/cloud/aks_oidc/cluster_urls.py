"""Where one managed cluster's issuer and API server live in the local cloud.

Each cluster has a stable uid: ``uuid5(NAMESPACE_URL, lower-cased cluster resource id)``, so
the node runtime (which knows the resource id from ``cluster.json``) finds the same
addresses without reading the cloud's state. On the local authority
``https://localhost:{port}/``:

- issuer: ``{authority}oidc/{tenantId}/{uid}/`` (as AKS: ``.../{tenant}/{uid}/``);
- API server (TokenRequest only): ``{authority}hcp/{uid}``.
"""

from __future__ import annotations

import uuid

ISSUER_PREFIX = "oidc"
API_SERVER_PREFIX = "hcp"


def cluster_uid(cluster_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, cluster_id.rstrip("/").lower()))


def issuer_url(authority: str, tenant_id: str, cluster_id: str) -> str:
    return f"{authority.rstrip('/')}/{ISSUER_PREFIX}/{tenant_id}/{cluster_uid(cluster_id)}/"


def api_server_url(authority: str, cluster_id: str) -> str:
    return f"{authority.rstrip('/')}/{API_SERVER_PREFIX}/{cluster_uid(cluster_id)}"


def jwks_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/openid/v1/jwks"


def discovery_document(issuer: str) -> dict[str, object]:
    """The API server's ``/.well-known/openid-configuration`` (service-account issuer)."""
    return {
        "issuer": issuer,
        "jwks_uri": jwks_url(issuer),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
