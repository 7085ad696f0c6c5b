"""The node runtime's main loop: every node of every registered cluster, one kubelet each.

Per cluster it keeps a store connection and, whenever ``watch_version()`` moves (polled
every ``poll_interval``), reconciles: Node objects from ``cluster.json``; the plugin
processes from the driver/provider DaemonSets (:mod:`kvcsi.node.plugins`); scheduling of
unbound pods (:mod:`kvcsi.node.scheduler`); and one :class:`PodWorker` per pod bound to a
local node. Pods whose node left ``cluster.json`` are deleted (the pod GC's rule). Shutdown
stops pods first (containers, then NodeUnpublishVolume while the driver is still up), then
the plugins, so nothing stays mounted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kvcsi.cluster.errors import ClusterError, NotFound
from kvcsi.node import nodes, plugins, scheduler
from kvcsi.node.discovery import ClusterDiscovery, ClusterSpec, NodeSpec
from kvcsi.node.layout import HomeLayout
from kvcsi.node.pod_worker import NodeContext, PodWorker
from kvcsi.node.registration import PluginRegistry
from kvcsi.node.service_account_tokens import ServiceAccountTokens
from kvcsi.node.settings import KubeletSettings
from kvcsi.node.socket_paths import prune_dangling

log = logging.getLogger(__name__)

FULL_RESYNC_SECONDS = 5.0
REPORT_SECONDS = 1.0


def default_connect(path: Path) -> Any:
    from kvcsi.cluster import connect

    return connect(str(path))


class ClusterRuntime:
    """Kubelet for every node of one cluster, plus its plugin processes and scheduler."""

    def __init__(self, layout: HomeLayout, spec: ClusterSpec, settings: KubeletSettings,
                 connect: Callable[[Path], Any]) -> None:
        self.layout = layout
        self.spec = spec
        self.settings = settings
        self._connect = connect
        self._store: Any = None
        self._version: int | None = None
        self._synced_at = 0.0
        self._registered: dict[str, NodeSpec] = {}
        self._registries: dict[str, PluginRegistry] = {}
        self._workers: dict[str, PodWorker] = {}
        self._csi_nodes: dict[str, dict[str, str]] = {}
        self._daemonsets: list[dict[str, Any]] = []
        self._reported_at = 0.0
        self._token_sources: dict[str, ServiceAccountTokens] = {}
        self.plugins = plugins.PluginSet(spec.root.name)

    @property
    def name(self) -> str:
        return self.spec.root.name

    def update_spec(self, spec: ClusterSpec) -> None:
        if spec != self.spec:
            self.spec = spec
            self._version = None

    def _node_layout(self, node: str):  # noqa: ANN202 - NodeLayout
        return self.layout.cluster(self.name).node(node)

    def tick(self) -> None:
        if self._store is None:
            if not self.spec.store_path.exists():
                return
            self._store = self._connect(self.spec.store_path)
        version = self._store.watch_version()
        now = time.monotonic()
        if version != self._version or now - self._synced_at >= FULL_RESYNC_SECONDS:
            self._version = version
            self._synced_at = now
            try:
                self._reconcile()
            except ClusterError as error:
                log.warning("cluster %s: reconcile failed: %s", self.name, error)
        elif now - self._reported_at >= REPORT_SECONDS:
            try:
                self._report_plugins(self._store, self._daemonsets)
            except ClusterError as error:
                log.warning("cluster %s: plugin report failed: %s", self.name, error)
        self.plugins.poll()
        self._reap_workers()

    def _reconcile(self) -> None:
        store = self._store
        self._sync_nodes(store)
        daemonsets = store.list("apps/v1", "DaemonSet", None,
                                label_selector=plugins.COMPONENT_LABEL)
        self.plugins.reconcile(plugins.desired_plugins(self.layout, self.spec, daemonsets))
        self._daemonsets = daemonsets
        self._report_plugins(store, daemonsets)
        pods = store.list("v1", "Pod", None)
        scheduler.schedule_pending(store, pods, self.spec.nodes)
        if any(scheduler.needs_scheduling(p) for p in pods):
            pods = store.list("v1", "Pod", None)
        self._sync_pods(store, pods)

    def _sync_nodes(self, store: Any) -> None:
        wanted = {node.name: node for node in self.spec.nodes}
        for name in list(self._registered):
            if name not in wanted:
                self._stop_workers(lambda w, n=name: w.node.node_name == n)
                self.plugins.stop(name)
                nodes.unregister(store, name)
                del self._registered[name]
                self._registries.pop(name, None)
                self._csi_nodes.pop(name, None)
        for name, node in wanted.items():
            if self._registered.get(name) == node:
                continue
            node_dir = self._node_layout(name)
            for directory in (node_dir.pods_dir, node_dir.driver_socket.parent,
                              node_dir.provider_dir, node_dir.additional_provider_dir):
                directory.mkdir(parents=True, exist_ok=True)
            nodes.register(store, self.spec, node)
            self._registered[name] = node
            self._registries[name] = PluginRegistry(node_dir.plugins_dir)

    def _report_plugins(self, store: Any, daemonsets: list[dict[str, Any]]) -> None:
        """DaemonSet status counters and each node's CSINode (registered drivers)."""
        self._reported_at = time.monotonic()
        running = self.plugins.running()
        for daemonset in daemonsets:
            component = (daemonset["metadata"].get("labels") or {}).get(plugins.COMPONENT_LABEL)
            keys = [key for key in running if key[1] == component]
            ready = sum(1 for key in keys if running[key].pid is not None)
            status = plugins.daemonset_status(daemonset, len(keys), ready)
            if daemonset.get("status") != status:
                meta = daemonset["metadata"]
                store.update_status("apps/v1", "DaemonSet", meta.get("namespace"), meta["name"],
                                    status)
        for name, registry in self._registries.items():
            drivers = {driver: name for driver in registry.registered()}
            if self._csi_nodes.get(name) != drivers:
                store.apply(nodes.csi_node(name, drivers))
                self._csi_nodes[name] = drivers

    def _sync_pods(self, store: Any, pods: list[dict[str, Any]]) -> None:
        local = set(self._registered)
        live: set[str] = set()
        for pod in pods:
            metadata = pod.get("metadata") or {}
            uid = metadata.get("uid", "")
            node = (pod.get("spec") or {}).get("nodeName")
            if not node:
                continue
            if node not in local:
                if node not in {n.name for n in self.spec.nodes}:
                    self._delete_orphan(store, pod)
                continue
            terminating = bool(metadata.get("deletionTimestamp"))
            worker = self._workers.get(uid)
            if terminating:
                if worker is not None:
                    worker.stop(delete_object=True)
                else:
                    self._delete_orphan(store, pod)
                continue
            live.add(uid)
            if worker is None:
                worker = PodWorker(self._context(node), pod, self.settings)
                self._workers[uid] = worker
                worker.start()
        for uid, worker in self._workers.items():
            if uid not in live and not worker.stopping:
                worker.stop()

    def _context(self, node: str) -> NodeContext:
        return NodeContext(cluster=self.name, store_path=self.spec.store_path, node_name=node,
                           layout=self._node_layout(node), registry=self._registries[node],
                           connect=self._connect,
                           service_account_tokens=self._service_account_tokens(node))

    def _service_account_tokens(self, node: str) -> ServiceAccountTokens | None:
        """The node's TokenRequest client (one per node, so its token cache is shared)."""
        spec = next((n for n in self.spec.nodes if n.name == node), None)
        if spec is None or not spec.imds_endpoint:
            return None
        source = self._token_sources.get(node)
        if source is None or source.imds_endpoint != spec.imds_endpoint.rstrip("/"):
            source = self._token_sources[node] = ServiceAccountTokens(
                self.layout.home, self.spec.root / "cluster.json", node, spec.imds_endpoint)
        return source

    @staticmethod
    def _delete_orphan(store: Any, pod: dict[str, Any]) -> None:
        metadata = pod["metadata"]
        try:
            store.delete("v1", "Pod", metadata.get("namespace"), metadata["name"],
                         grace_period_seconds=0)
        except NotFound:
            pass

    def _reap_workers(self) -> None:
        for uid, worker in list(self._workers.items()):
            if not worker.is_alive() and worker.stopping:
                del self._workers[uid]

    def _stop_workers(self, which: Callable[[PodWorker], bool]) -> None:
        chosen = [w for w in self._workers.values() if which(w)]
        for worker in chosen:
            worker.stop()
        for worker in chosen:
            worker.join()
        for uid in [uid for uid, w in self._workers.items() if w in chosen]:
            del self._workers[uid]

    def workers(self) -> dict[str, PodWorker]:
        return dict(self._workers)

    def shutdown(self) -> None:
        """Stop pods (unpublishing their volumes), then plugins; mark nodes NotReady."""
        self._stop_workers(lambda _: True)
        self.plugins.stop()
        if self._store is not None:
            for node in self._registered.values():
                if self.spec.store_path.exists():
                    nodes.set_unknown(self._store, node)
            close = getattr(self._store, "close", None)
            if close:
                close()
            self._store = None


class NodeRuntime:
    """All clusters under ``$KVCSI_HOME``; :meth:`run` loops until :meth:`stop`."""

    def __init__(self, home: Path, settings: KubeletSettings | None = None,
                 connect: Callable[[Path], Any] = default_connect) -> None:
        self.layout = HomeLayout(Path(home))
        self.settings = settings or KubeletSettings()
        self._connect = connect
        self._discovery = ClusterDiscovery(self.layout)
        self.clusters: dict[str, ClusterRuntime] = {}
        self._stop = threading.Event()

    def tick(self) -> None:
        found = self._discovery.scan()
        for name in list(self.clusters):
            if name not in found:
                log.info("cluster %s is gone; stopping its node", name)
                self.clusters.pop(name).shutdown()
        for name, spec in found.items():
            cluster = self.clusters.get(name)
            if cluster is None:
                log.info("cluster %s registered with %d node(s)", name, len(spec.nodes))
                cluster = self.clusters[name] = ClusterRuntime(self.layout, spec, self.settings,
                                                               self._connect)
            cluster.update_spec(spec)
            try:
                cluster.tick()
            except Exception:  # noqa: BLE001 - one broken cluster must not stop the others
                log.exception("cluster %s: tick failed", name)

    def run(self) -> None:
        self.layout.run_dir.mkdir(parents=True, exist_ok=True)
        self.layout.ready_file.write_text(f"{time.time():.0f}\n")
        try:
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(self.settings.poll_interval)
        finally:
            self.shutdown()

    def stop(self) -> None:
        self._stop.set()

    def shutdown(self) -> None:
        for cluster in list(self.clusters.values()):
            cluster.shutdown()
        self.clusters.clear()
        prune_dangling()
        self.layout.ready_file.unlink(missing_ok=True)
