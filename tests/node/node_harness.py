"""Test harness for the node runtime: a state dir with one cluster, a real cluster store,
a fake CSI driver on a real unix socket in the node dir, and a runtime on a thread."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.cluster import NotFound, connect
from kvcsi.node.layout import HomeLayout, NodeLayout
from kvcsi.node.runtime import NodeRuntime
from kvcsi.node.settings import KubeletSettings
from kvcsi.node.socket_paths import short_socket
from kvcsi.node.supervisor import Backoff

CLUSTER = "MyAKSCluster"
NODE = "aks-nodepool1-12345678-vmss000000"
DRIVER_NAME = "secrets-store.csi.k8s.io"


def short_tmp_dir() -> Path:
    """Unix socket paths must stay under 108 bytes: use a short directory under /tmp."""
    return Path(tempfile.mkdtemp(prefix="kvn-", dir="/tmp"))


def write_cluster(home: Path, nodes: list[str]) -> Path:
    cluster_dir = home / "clusters" / CLUSTER
    cluster_dir.mkdir(parents=True, exist_ok=True)
    document = {"name": CLUSTER, "resourceId": f"/subscriptions/s/managedClusters/{CLUSTER}",
                "nodes": [{"name": n, "vmId": f"vm-{i}",
                           "imdsEndpoint": f"http://127.0.0.1:8480/vms/vm-{i}"}
                          for i, n in enumerate(nodes)]}
    temporary = cluster_dir / "cluster.json.tmp"
    temporary.write_text(json.dumps(document))
    temporary.replace(cluster_dir / "cluster.json")
    return cluster_dir


CSI_DRIVER_OBJECT = {
    "apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
    "metadata": {"name": DRIVER_NAME},
    "spec": {"podInfoOnMount": True, "attachRequired": False,
             "volumeLifecycleModes": ["Ephemeral"], "requiresRepublish": False},
}


@dataclass
class FakeDriver(csi_pb2_grpc.IdentityServicer, csi_pb2_grpc.NodeServicer):
    """Records every call; fails publishes from ``failures`` first; writes ``files``."""

    name: str = DRIVER_NAME
    files: dict[str, bytes] = field(default_factory=lambda: {"foo": b"hello-from-csi"})
    failures: list[tuple[grpc.StatusCode, str]] = field(default_factory=list)
    publishes: list[csi_pb2.NodePublishVolumeRequest] = field(default_factory=list)
    publish_times: list[float] = field(default_factory=list)
    unpublishes: list[csi_pb2.NodeUnpublishVolumeRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return csi_pb2.GetPluginInfoResponse(name=self.name, vendor_version="test")

    def NodeGetCapabilities(self, request: Any, context: Any) -> Any:  # noqa: N802
        rpc = csi_pb2.NodeServiceCapability.RPC
        return csi_pb2.NodeGetCapabilitiesResponse(capabilities=[
            csi_pb2.NodeServiceCapability(rpc=rpc(type=rpc.STAGE_UNSTAGE_VOLUME))])

    def NodePublishVolume(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self.lock:
            self.publishes.append(request)
            self.publish_times.append(time.monotonic())
            failure = self.failures.pop(0) if self.failures else None
        if failure:
            context.abort(failure[0], failure[1])
        target = Path(request.target_path)
        target.mkdir(parents=True, exist_ok=True)
        for name, content in self.files.items():
            (target / name).write_bytes(content)
        return csi_pb2.NodePublishVolumeResponse()

    def NodeUnpublishVolume(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self.lock:
            self.unpublishes.append(request)
        shutil.rmtree(request.target_path, ignore_errors=True)
        return csi_pb2.NodeUnpublishVolumeResponse()


def serve_driver(driver: FakeDriver, socket: Path) -> grpc.Server:
    socket.parent.mkdir(parents=True, exist_ok=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    csi_pb2_grpc.add_IdentityServicer_to_server(driver, server)
    csi_pb2_grpc.add_NodeServicer_to_server(driver, server)
    server.add_insecure_port(f"unix://{short_socket(socket)}")
    server.start()
    return server


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def get_or_none(store: Any, api_version: str, kind: str, namespace: str | None,
                name: str) -> dict[str, Any] | None:
    try:
        return store.get(api_version, kind, namespace, name)
    except NotFound:
        return None


def fast_settings(**overrides: Any) -> KubeletSettings:
    values: dict[str, Any] = {"mount_backoff": Backoff(0.2, 2.0, 0.8),
                              "container_backoff": Backoff(0.2, 2.0, 0.5),
                              "sync_period": 60.0, "poll_interval": 0.05,
                              "max_grace_seconds": 2.0}
    values.update(overrides)
    return KubeletSettings(**values)


class NodeEnv:
    """One home, one cluster, its store, a runtime thread; optional fake driver."""

    def __init__(self, nodes: list[str] | None = None, settings: KubeletSettings | None = None):
        self.home = short_tmp_dir()
        self.layout = HomeLayout(self.home)
        self.nodes = nodes or [NODE]
        self.cluster_dir = write_cluster(self.home, self.nodes)
        self.store = connect(str(self.cluster_dir / "store.db"), create=True)
        self.runtime = NodeRuntime(self.home, settings or fast_settings())
        self.thread: threading.Thread | None = None
        self.servers: list[grpc.Server] = []

    def node(self, name: str = NODE) -> NodeLayout:
        return self.layout.cluster(CLUSTER).node(name)

    def start_driver(self, driver: FakeDriver, node: str = NODE) -> FakeDriver:
        self.servers.append(serve_driver(driver, self.node(node).driver_socket))
        return driver

    def start(self) -> None:
        self.thread = threading.Thread(target=self.runtime.run, daemon=True)
        self.thread.start()
        wait_for(self.layout.ready_file.exists)

    def stop_runtime(self) -> None:
        if self.thread is not None:
            self.runtime.stop()
            self.thread.join(timeout=30)
            self.thread = None

    def close(self) -> None:
        self.stop_runtime()
        for server in self.servers:
            server.stop(grace=None)
        self.store.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def pod(self, name: str, namespace: str = "default") -> dict[str, Any]:
        return self.store.get("v1", "Pod", namespace, name)

    def events(self, name: str, reason: str) -> list[dict[str, Any]]:
        return [e for e in self.store.list_events("default")
                if e["involvedObject"].get("name") == name and e["reason"] == reason]


def csi_pod(name: str = "mypod", command: list[str] | None = None,
            mount_path: str = "/mnt/secrets-store", secret_ref: str | None = None,
            read_only: bool = True) -> dict[str, Any]:
    csi: dict[str, Any] = {"driver": DRIVER_NAME, "readOnly": read_only,
                           "volumeAttributes": {"secretProviderClass": "azure-kvname"}}
    if secret_ref:
        csi["nodePublishSecretRef"] = {"name": secret_ref}
    container: dict[str, Any] = {
        "name": "busybox", "image": "registry.k8s.io/e2e-test-images/busybox:1.29-4",
        "volumeMounts": [{"name": "secrets-store01-inline", "mountPath": mount_path,
                          "readOnly": True}],
    }
    if command:
        container["command"] = command
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [container],
                     "volumes": [{"name": "secrets-store01-inline", "csi": csi}]}}
