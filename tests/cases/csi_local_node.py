"""A local node (the kvcsi node runtime as kubelet) running the real driver process, with
test providers served on unix sockets in the node's provider directories.

Used by the driver-side cases (BB-03 driver side, BB-26). No cloud is needed: the providers
here are small gRPC servicers speaking the upstream ``v1alpha1.CSIDriverProvider`` API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.cluster.bundled import DRIVER_MANIFEST
from kvcsi.cluster.manifests import apply_sources
from kvcsi.node import csi_client
from kvcsi.node.socket_paths import short_socket
from tests.node.node_harness import NODE, NodeEnv, fast_settings, wait_for

DRIVER = "secrets-store.csi.k8s.io"
VOLUME = "secrets-store01-inline"
SPC_API = "secrets-store.csi.x-k8s.io/v1"


class ScriptedProvider(provider_pb2_grpc.CSIDriverProviderServicer):
    """Answers Mount with ``files(parameters)``; records the parameters of every call."""

    def __init__(self, files: Callable[[dict[str, str]], list[tuple[str, int, bytes]]]) -> None:
        self.files = files
        self.calls: list[dict[str, str]] = []

    def Version(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.VersionResponse(version="v1alpha1", runtime_name="scripted",
                                            runtime_version="0.0.1")

    def Mount(self, request: Any, context: Any) -> Any:  # noqa: N802
        attributes = json.loads(request.attributes)
        self.calls.append(attributes)
        return provider_pb2.MountResponse(
            object_version=[provider_pb2.ObjectVersion(id="secret/x", version="1")],
            files=[provider_pb2.File(path=p, mode=m, contents=c)
                   for p, m, c in self.files(attributes)],
        )


class LocalCsiNode:
    """One cluster, one node, the real driver from the bundled manifest, events readable."""

    def __init__(self) -> None:
        self.env = NodeEnv(settings=fast_settings())
        self.servers: list[grpc.Server] = []
        apply_sources(self.env.store, [str(DRIVER_MANIFEST)])
        # upstream's static deploy/csidriver.yaml: no tokenRequests (these cases need no
        # workload identity, hence no cluster OIDC issuer)
        csi_driver = self.env.store.get("storage.k8s.io/v1", "CSIDriver", None, DRIVER)
        csi_driver["spec"].pop("tokenRequests", None)
        self.env.store.replace(csi_driver)
        self.env.start()
        wait_for(lambda: csi_client.plugin_name(self.node.driver_socket) == DRIVER, timeout=30)

    @property
    def node(self):
        return self.env.node(NODE)

    @property
    def store(self):
        return self.env.store

    def serve_provider(self, name: str, servicer: ScriptedProvider,
                       directory: Path | None = None) -> grpc.Server:
        """Serve ``servicer`` on ``<directory>/<name>.sock`` (default: the provider dir)."""
        directory = directory or self.node.provider_dir
        directory.mkdir(parents=True, exist_ok=True)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        provider_pb2_grpc.add_CSIDriverProviderServicer_to_server(servicer, server)
        server.add_insecure_port(f"unix://{short_socket(directory / f'{name}.sock')}")
        server.start()
        self.servers.append(server)
        return server

    def add_spc(self, name: str, provider: str, parameters: dict[str, str]) -> None:
        self.store.create({"apiVersion": SPC_API, "kind": "SecretProviderClass",
                           "metadata": {"name": name, "namespace": "default"},
                           "spec": {"provider": provider, "parameters": parameters}})

    def add_pod(self, name: str, spc: str) -> None:
        self.store.create({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{
                "name": "busybox", "image": "registry.k8s.io/e2e-test-images/busybox:1.29-4",
                "volumeMounts": [{"name": VOLUME, "mountPath": "/mnt/secrets-store",
                                  "readOnly": True}]}],
                "volumes": [{"name": VOLUME, "csi": {
                    "driver": DRIVER, "readOnly": True,
                    "volumeAttributes": {"secretProviderClass": spc}}}]},
        })

    def phase(self, pod: str) -> str:
        try:
            return (self.env.pod(pod).get("status") or {}).get("phase", "")
        except Exception:  # noqa: BLE001 - gone
            return ""

    def wait_running(self, *pods: str, timeout: float = 30) -> None:
        wait_for(lambda: all(self.phase(p) == "Running" for p in pods), timeout=timeout)

    def failed_mounts(self, pod: str) -> list[str]:
        return [e["message"] for e in self.env.events(pod, "FailedMount")]

    def wait_failed_mount(self, pod: str, containing: str, timeout: float = 30) -> str:
        """The first FailedMount message of ``pod`` that contains ``containing``."""
        def found() -> str | None:
            return next((m for m in self.failed_mounts(pod) if containing in m), None)

        return wait_for(found, timeout=timeout)

    def target(self, pod: str) -> Path:
        uid = self.env.pod(pod)["metadata"]["uid"]
        return self.node.pod(uid).csi_target_path(VOLUME)

    def close(self) -> None:
        try:
            self.env.close()
        finally:
            for server in self.servers:
                server.stop(None)
