"""Where the local kubelet keeps things under ``$KVCSI_HOME`` (contract §2 and §6).

One place for every path the node runtime, its tests and the CLI helpers share: the cluster
and node directories, kubelet's pod and volume directories
(``pods/<uid>/volumes/kubernetes.io~csi/<vol>/mount`` as upstream), the driver and provider
sockets, container log and pid files, and the runtime's own log and ready marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CSI_PLUGIN_DIR_NAME = "kubernetes.io~csi"
EMPTY_DIR_PLUGIN_DIR_NAME = "kubernetes.io~empty-dir"
DRIVER_SOCKET_RELATIVE = Path("plugins") / "csi-secrets-store" / "csi.sock"
PROVIDER_DIR_NAME = "providers"
ADDITIONAL_PROVIDER_DIR_NAME = "etc-providers"


@dataclass(frozen=True)
class HomeLayout:
    """Paths of one state directory (``$KVCSI_HOME``)."""

    home: Path

    @property
    def clusters_dir(self) -> Path:
        return self.home / "clusters"

    @property
    def cloud_dir(self) -> Path:
        return self.home / "cloud"

    @property
    def environment_file(self) -> Path:
        return self.cloud_dir / "environment.json"

    @property
    def ca_bundle(self) -> Path:
        return self.cloud_dir / "ca.pem"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def ready_file(self) -> Path:
        return self.run_dir / "node.ready"

    def cluster(self, cluster: str) -> ClusterLayout:
        return ClusterLayout(self.clusters_dir / cluster)

    def plugin_log(self, cluster: str, node: str, component: str) -> Path:
        """``logs/<cluster>-<node>-<component>.log`` (component: driver or provider)."""
        return self.logs_dir / f"{cluster}-{node}-{component}.log"


@dataclass(frozen=True)
class ClusterLayout:
    """Paths of one registered cluster (``clusters/<cluster>``)."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def cluster_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def store_path(self) -> Path:
        return self.root / "store.db"

    def node(self, node: str) -> NodeLayout:
        return NodeLayout(self.root / "nodes" / node)


@dataclass(frozen=True)
class NodeLayout:
    """Paths of one node's kubelet root (``clusters/<cluster>/nodes/<node>``)."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def pods_dir(self) -> Path:
        return self.root / "pods"

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins"

    @property
    def driver_socket(self) -> Path:
        return self.root / DRIVER_SOCKET_RELATIVE

    @property
    def provider_dir(self) -> Path:
        return self.root / PROVIDER_DIR_NAME

    @property
    def additional_provider_dir(self) -> Path:
        return self.root / ADDITIONAL_PROVIDER_DIR_NAME

    @property
    def provider_socket(self) -> Path:
        return self.provider_dir / "azure.sock"

    def pod(self, uid: str) -> PodLayout:
        return PodLayout(self.pods_dir / uid)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class PodLayout:
    """Paths of one pod on a node (``nodes/<node>/pods/<uid>``)."""

    root: Path

    def csi_volume_dir(self, volume: str) -> Path:
        return self.root / "volumes" / CSI_PLUGIN_DIR_NAME / volume

    def csi_target_path(self, volume: str) -> Path:
        """kubelet's CSI target path: ``volumes/kubernetes.io~csi/<vol>/mount``."""
        return self.csi_volume_dir(volume) / "mount"

    def volume_dir(self, plugin_dir_name: str, volume: str) -> Path:
        """``volumes/<plugin>/<vol>``, e.g. ``kubernetes.io~empty-dir``."""
        return self.root / "volumes" / plugin_dir_name / volume

    def empty_dir(self, volume: str) -> Path:
        return self.volume_dir(EMPTY_DIR_PLUGIN_DIR_NAME, volume)

    def container_log(self, container: str) -> Path:
        return self.root / f"{_UNSAFE.sub('_', container)}.log"

    def container_pid_file(self, container: str) -> Path:
        return self.root / f"{_UNSAFE.sub('_', container)}.pid"
