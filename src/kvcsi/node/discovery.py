"""Which clusters and nodes exist: ``clusters/*/cluster.json`` (contract §6).

``kvcsi az aks create`` / ``nodepool scale`` write one ``cluster.json`` per cluster with its
node list; the runtime re-reads them whenever a file's mtime changes. A missing or half-written
file is skipped until it parses (writers replace it atomically).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from kvcsi.node.layout import HomeLayout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeSpec:
    """One node (a VMSS instance) of a cluster."""

    name: str
    vm_id: str
    imds_endpoint: str
    agent_pool: str


@dataclass(frozen=True)
class ClusterSpec:
    """One registered cluster: its name, state directory and nodes."""

    name: str
    root: Path
    resource_id: str
    nodes: tuple[NodeSpec, ...]

    @property
    def store_path(self) -> Path:
        return self.root / "store.db"


def agent_pool_of(node_name: str) -> str:
    """The pool name in an AKS node name: ``aks-<pool>-<8 digits>-vmss<6 digits>``."""
    parts = node_name.split("-")
    if len(parts) >= 4 and parts[0] == "aks":
        return "-".join(parts[1:-2])
    return "nodepool1"


def parse_cluster_file(path: Path) -> ClusterSpec:
    """Parse one ``cluster.json``; raises ``ValueError`` for an unusable document."""
    document = json.loads(path.read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a JSON object")
    nodes = []
    for entry in document.get("nodes") or []:
        name = str(entry["name"])
        nodes.append(
            NodeSpec(
                name=name,
                vm_id=str(entry.get("vmId", "")),
                imds_endpoint=str(entry.get("imdsEndpoint", "")),
                agent_pool=str(entry.get("agentPool") or agent_pool_of(name)),
            )
        )
    return ClusterSpec(
        name=str(document.get("name") or path.parent.name),
        root=path.parent,
        resource_id=str(document.get("resourceId", "")),
        nodes=tuple(nodes),
    )


class ClusterDiscovery:
    """Re-reads ``cluster.json`` files cheaply (by mtime) and returns the current set."""

    def __init__(self, layout: HomeLayout) -> None:
        self._layout = layout
        self._cache: dict[Path, tuple[int, ClusterSpec]] = {}

    def scan(self) -> dict[str, ClusterSpec]:
        """Clusters keyed by directory name; unreadable files keep their last good value."""
        found: dict[str, ClusterSpec] = {}
        seen: set[Path] = set()
        for path in sorted(self._layout.clusters_dir.glob("*/cluster.json")):
            seen.add(path)
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:
                continue
            cached = self._cache.get(path)
            if cached is None or cached[0] != mtime:
                try:
                    cached = (mtime, parse_cluster_file(path))
                except (OSError, ValueError, KeyError, TypeError) as error:
                    log.warning("skipping %s for now: %s", path, error)
                    if cached is None:
                        continue
                self._cache[path] = cached
            found[path.parent.name] = cached[1]
        for gone in set(self._cache) - seen:
            del self._cache[gone]
        return found
