"""The slice of the cluster store the driver uses, as a Protocol (see local-wiring §6).

Upstream counterpart: the controller-runtime client the Go driver is built with (cached
reads of SecretProviderClasses, writes of SecretProviderClassPodStatus). The real
implementation is :func:`kvcsi.cluster.store.connect`; tests pass a small fake with the
same three methods and the same error classes.
"""

from __future__ import annotations

from typing import Protocol

from kvcsi.cluster.errors import AlreadyExists, ClusterError, NoKindMatch, NotFound

__all__ = ["AlreadyExists", "ClusterError", "DriverClusterStore", "NoKindMatch", "NotFound"]


class DriverClusterStore(Protocol):
    """Objects are plain dicts in Kubernetes JSON shape; errors come from kvcsi.cluster.errors."""

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict:
        """The object, or raise NotFound / NoKindMatch."""
        ...

    def create(self, obj: dict) -> dict:
        """Create ``obj``, or raise AlreadyExists."""
        ...

    def replace(self, obj: dict) -> dict:
        """Replace the stored object with ``obj`` (an update)."""
        ...
