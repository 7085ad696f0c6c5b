"""Where Kubernetes objects live, behind one interface (:class:`ClusterStore`).

``connect()`` opens the cluster named by a ``store.db`` path or ``$KVCSI_CLUSTER_STORE``;
:mod:`kvcsi.cluster.manifests` loads and applies YAML the way ``kubectl apply -f`` does;
:mod:`kvcsi.cluster.bundled` maps the upstream install-manifest URLs to packaged copies.
"""

from kvcsi.cluster.bundled import known_manifest
from kvcsi.cluster.errors import (
    AlreadyExists,
    BadRequest,
    ClusterError,
    ClusterUnavailable,
    Conflict,
    Forbidden,
    Invalid,
    NoKindMatch,
    NotFound,
)
from kvcsi.cluster.kinds import KindInfo
from kvcsi.cluster.local_store import LocalClusterStore
from kvcsi.cluster.manifests import (
    ApplyResult,
    Document,
    ManifestError,
    apply_documents,
    apply_sources,
    load_documents,
    load_file,
)
from kvcsi.cluster.store import CLUSTER_STORE_ENV, ClusterStore, connect

__all__ = [
    "AlreadyExists",
    "ApplyResult",
    "BadRequest",
    "CLUSTER_STORE_ENV",
    "ClusterError",
    "ClusterStore",
    "ClusterUnavailable",
    "Conflict",
    "Document",
    "Forbidden",
    "Invalid",
    "KindInfo",
    "LocalClusterStore",
    "ManifestError",
    "NoKindMatch",
    "NotFound",
    "apply_documents",
    "apply_sources",
    "connect",
    "known_manifest",
    "load_documents",
    "load_file",
]
