"""The one interface to a cluster's Kubernetes objects, and how to reach a cluster.

Counterpart: the Kubernetes API as client-go presents it (typed CRUD, status writes, events,
discovery). Objects are plain dicts in Kubernetes JSON shape. Implementations: the local
SQLite store (:mod:`kvcsi.cluster.local_store`) and the Kubernetes API through the official
client (:mod:`kvcsi.cluster.kube_store`), both chosen by :func:`connect`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Protocol

from kvcsi.cluster.errors import ClusterUnavailable
from kvcsi.cluster.kinds import KindInfo

CLUSTER_STORE_ENV = "KVCSI_CLUSTER_STORE"

ApplyAction = Literal["created", "configured", "unchanged"]
LabelSelector = dict[str, str] | str


class ClusterStore(Protocol):
    """Where Kubernetes objects live. Errors: NotFound, AlreadyExists, Conflict, Invalid,
    NoKindMatch (all in :mod:`kvcsi.cluster.errors`, carrying kubectl's texts)."""

    def resolve_kind(self, api_version: str, kind: str) -> KindInfo:
        """The served kind (NoKindMatch when the group/version does not serve it)."""
        ...

    def api_resources(self) -> list[KindInfo]:
        """Every served kind and version (built-ins and CRD-served)."""
        ...

    def find_resource(self, name: str) -> list[KindInfo]:
        """Kinds a kubectl resource word (``po``, ``secretproviderclasses``) may mean."""
        ...

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict:
        ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector | None = None,
    ) -> list[dict]:
        """Objects sorted by namespace then name; ``namespace=None`` means all namespaces."""
        ...

    def create(self, obj: dict) -> dict:
        ...

    def apply(self, obj: dict) -> tuple[dict, ApplyAction]:
        ...

    def replace(self, obj: dict) -> dict:
        ...

    def update_status(
        self, api_version: str, kind: str, namespace: str | None, name: str, status: dict
    ) -> dict:
        ...

    def patch_status(
        self, api_version: str, kind: str, namespace: str | None, name: str, patch: dict
    ) -> dict:
        ...

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        *,
        grace_period_seconds: int | None = None,
    ) -> dict:
        """Bound Pods are deleted gracefully (``deletionTimestamp``) unless grace is 0."""
        ...

    def record_event(
        self,
        involved: dict,
        type_: str,
        reason: str,
        message: str,
        source_component: str,
        source_host: str | None = None,
    ) -> dict:
        ...

    def events_for(self, involved: dict) -> list[dict]:
        ...

    def list_events(self, namespace: str | None = None) -> list[dict]:
        ...

    def watch_version(self) -> int:
        ...

    def close(self) -> None:
        ...


def connect(
    spec: str | os.PathLike[str] | None = None, *, create: bool = False
) -> ClusterStore:
    """Open the cluster named by ``spec`` or by the environment.

    ``spec`` is a ``store.db`` path (the local store) or ``kube:[in-cluster|<kubeconfig>]``
    (the Kubernetes API, :mod:`kvcsi.cluster.kube_store`). With no spec:
    ``$KVCSI_CLUSTER_STORE`` (local), else ``$KVCSI_CLUSTER=kubernetes`` or
    ``KUBERNETES_SERVICE_HOST`` (the Kubernetes API; see :mod:`kvcsi.cluster.kube_config`).
    ``create=True`` creates a missing store file (the CLI does this when it creates a cluster);
    otherwise a missing file is :class:`ClusterUnavailable`, so a mistyped path never turns
    into an empty cluster.
    """
    from kvcsi.cluster import kube_config
    from kvcsi.cluster.local_store import LocalClusterStore

    if spec is not None and kube_config.is_kube_spec(str(spec)):
        return _kube_store(kube_config.target_from_spec(str(spec)))
    chosen = spec if spec is not None else os.environ.get(CLUSTER_STORE_ENV) or None
    if chosen is None:
        target = kube_config.target_from_environment()
        if target is not None:
            return _kube_store(target)
        raise ClusterUnavailable(
            "no cluster: kvcsi needs a Kubernetes cluster to talk to. Start the local one "
            "with `kvcsi up` (then `kvcsi az aks create` / `az aks get-credentials`), or set "
            f"{CLUSTER_STORE_ENV} to a cluster's store.db, or {kube_config.CLUSTER_KIND_ENV}="
            f"{kube_config.KUBERNETES_CLUSTER_KIND} to use a Kubernetes API (kubeconfig or "
            "in-cluster configuration)"
        )
    path = Path(chosen)
    if not create and not path.exists():
        raise ClusterUnavailable(
            f"no cluster at {path}: the store file does not exist (is the cluster created? "
            "`kvcsi az aks create` makes one)"
        )
    return LocalClusterStore(path)


def _kube_store(target: object) -> ClusterStore:
    from kvcsi.cluster.kube_store import KubeClusterStore

    return KubeClusterStore.from_target(target)  # type: ignore[arg-type]
