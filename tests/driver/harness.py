"""Test harness: a fake cluster store, a fake provider and a driver, on real unix sockets."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc

from kvcsi._proto import csi_pb2, csi_pb2_grpc, provider_pb2, provider_pb2_grpc
from kvcsi.cluster.errors import AlreadyExists, NotFound
from kvcsi.driver.cluster_access import DriverClusterStore
from kvcsi.driver.controller import ControllerServicer
from kvcsi.driver.identity import IdentityServicer
from kvcsi.driver.mounter import Mounter
from kvcsi.driver.node import NodeServicer
from kvcsi.driver.provider_client import ProviderClients
from kvcsi.driver.publisher import PublisherConfig, VolumePublisher
from kvcsi.driver.server import build_server, parse_endpoint

NODE_ID = "aks-nodepool1-12345678-vmss000000"
POD_UID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
SPC_GROUP = "secrets-store.csi.x-k8s.io"


class FakeClusterStore:
    """The three store methods the driver uses, with kvcsi.cluster's error classes."""

    RESOURCES = {
        "SecretProviderClass": f"secretproviderclasses.{SPC_GROUP}",
        "SecretProviderClassPodStatus": f"secretproviderclasspodstatuses.{SPC_GROUP}",
    }

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        self.creates = 0
        self.replaces = 0

    def _key(self, api_version: str, kind: str, namespace: str | None, name: str) -> tuple:
        return (api_version, kind, namespace or "", name)

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict:
        try:
            return copy.deepcopy(self.objects[self._key(api_version, kind, namespace, name)])
        except KeyError:
            raise NotFound(self.RESOURCES.get(kind, kind.lower()), name) from None

    def create(self, obj: dict) -> dict:
        meta = obj["metadata"]
        key = self._key(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        if key in self.objects:
            raise AlreadyExists(self.RESOURCES.get(obj["kind"], obj["kind"]), meta["name"])
        self.objects[key] = copy.deepcopy(obj)
        self.creates += 1
        return copy.deepcopy(obj)

    def replace(self, obj: dict) -> dict:
        meta = obj["metadata"]
        key = self._key(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        if key not in self.objects:
            raise NotFound(self.RESOURCES.get(obj["kind"], obj["kind"]), meta["name"])
        self.objects[key] = copy.deepcopy(obj)
        self.replaces += 1
        return copy.deepcopy(obj)

    def add_spc(
        self,
        name: str = "azure-kv",
        namespace: str = "default",
        provider: str = "fake",
        parameters: dict | None = None,
        api_version: str = f"{SPC_GROUP}/v1",
    ) -> dict:
        spc = {
            "apiVersion": api_version,
            "kind": "SecretProviderClass",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "provider": provider,
                "parameters": {"keyvaultName": "kv1"} if parameters is None else parameters,
            },
        }
        self.objects[self._key(api_version, spc["kind"], namespace, name)] = spc
        return spc

    def pod_status(self, name: str, namespace: str = "default") -> dict:
        return self.get(f"{SPC_GROUP}/v1", "SecretProviderClassPodStatus", namespace, name)


@dataclass
class FakeProvider(provider_pb2_grpc.CSIDriverProviderServicer):
    """A CSIDriverProvider whose Mount answer the test sets; records every request."""

    files: list[tuple[str, int, bytes]] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=lambda: [("secret/foo", "v1")])
    error_code: str = ""
    abort_with: tuple[grpc.StatusCode, str] | None = None
    requests: list[provider_pb2.MountRequest] = field(default_factory=list)
    metadata: list[dict] = field(default_factory=list)

    def Version(self, request, context):
        return provider_pb2.VersionResponse(
            version="v1alpha1", runtime_name="fake", runtime_version="0.0.1"
        )

    def Mount(self, request, context):
        self.requests.append(request)
        self.metadata.append(dict(context.invocation_metadata()))
        if self.abort_with is not None:
            context.abort(*self.abort_with)
        response = provider_pb2.MountResponse(
            object_version=[provider_pb2.ObjectVersion(id=i, version=v) for i, v in self.versions],
            files=[provider_pb2.File(path=p, mode=m, contents=c) for p, m, c in self.files],
        )
        if self.error_code:
            response.error.code = self.error_code
        return response


def serve_provider(servicer: FakeProvider, socket_path: str) -> grpc.Server:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    provider_pb2_grpc.add_CSIDriverProviderServicer_to_server(servicer, server)
    server.add_insecure_port(f"unix:{socket_path}")
    server.start()
    return server


@dataclass
class DriverHarness:
    """A running driver (Identity, Controller, Node) plus its collaborators."""

    node: csi_pb2_grpc.NodeStub
    identity: csi_pb2_grpc.IdentityStub
    controller: csi_pb2_grpc.ControllerStub
    store: Any
    provider: FakeProvider
    publisher: VolumePublisher
    provider_dir: str
    extra_provider_dir: str
    kubelet_dir: str
    socket_path: str
    _provider_server: grpc.Server | None = None

    def target(self, volume: str = "secrets-store-inline", uid: str = POD_UID) -> str:
        return os.path.join(
            self.kubelet_dir, "pods", uid, "volumes", "kubernetes.io~csi", volume, "mount"
        )

    def publish_request(self, **overrides) -> csi_pb2.NodePublishVolumeRequest:
        context = {
            "secretProviderClass": "azure-kv",
            "csi.storage.k8s.io/pod.name": "busybox-secrets-store-inline",
            "csi.storage.k8s.io/pod.namespace": "default",
            "csi.storage.k8s.io/pod.uid": POD_UID,
            "csi.storage.k8s.io/serviceAccount.name": "default",
            "csi.storage.k8s.io/ephemeral": "true",
        }
        context.update(overrides.pop("volume_context_extra", {}))
        fields = {
            "volume_id": "csi-0123456789abcdef",
            "target_path": self.target(),
            "volume_capability": csi_pb2.VolumeCapability(
                mount=csi_pb2.VolumeCapability.MountVolume(),
                access_mode=csi_pb2.VolumeCapability.AccessMode(
                    mode=csi_pb2.VolumeCapability.AccessMode.SINGLE_NODE_READER_ONLY
                ),
            ),
            "readonly": True,
            "volume_context": context,
        }
        fields.update(overrides)
        return csi_pb2.NodePublishVolumeRequest(**fields)

    def restart_provider(self) -> None:
        """Stop the fake provider and serve it again on a new socket file at the same path."""
        socket_path = os.path.join(self.provider_dir, "fake.sock")
        if self._provider_server is not None:
            self._provider_server.stop(None).wait()
        if os.path.exists(socket_path):
            os.remove(socket_path)
        self._provider_server = serve_provider(self.provider, socket_path)


def short_tmpdir() -> str:
    """Unix socket paths must stay under ~108 bytes, so sockets live in a short /tmp dir."""
    return tempfile.mkdtemp(prefix="kvd-", dir="/tmp")


def make_driver(
    mounter: Mounter,
    config: PublisherConfig | None = None,
    store: DriverClusterStore | None = None,
) -> Iterator[DriverHarness]:
    base = short_tmpdir()
    provider_dir = os.path.join(base, "p")
    extra_provider_dir = os.path.join(base, "e")
    kubelet_dir = os.path.join(base, "kubelet")
    for directory in (provider_dir, extra_provider_dir, kubelet_dir):
        os.makedirs(directory)
    if store is None:
        store = FakeClusterStore()
        store.add_spc()
    provider = FakeProvider()
    clients = ProviderClients([extra_provider_dir, provider_dir])
    publisher = VolumePublisher(config or PublisherConfig(node_id=NODE_ID), store, clients, mounter)
    socket_path = os.path.join(base, "csi.sock")
    server, _ = build_server(
        parse_endpoint(f"unix://{socket_path}"),
        [
            lambda s: csi_pb2_grpc.add_IdentityServicer_to_server(
                IdentityServicer("secrets-store.csi.k8s.io", "0.1.0"), s
            ),
            lambda s: csi_pb2_grpc.add_ControllerServicer_to_server(ControllerServicer(), s),
            lambda s: csi_pb2_grpc.add_NodeServicer_to_server(NodeServicer(NODE_ID, publisher), s),
        ],
    )
    server.start()
    channel = grpc.insecure_channel(f"unix:{socket_path}")
    harness = DriverHarness(
        node=csi_pb2_grpc.NodeStub(channel),
        identity=csi_pb2_grpc.IdentityStub(channel),
        controller=csi_pb2_grpc.ControllerStub(channel),
        store=store,
        provider=provider,
        publisher=publisher,
        provider_dir=provider_dir,
        extra_provider_dir=extra_provider_dir,
        kubelet_dir=kubelet_dir,
        socket_path=socket_path,
    )
    harness.restart_provider()
    try:
        yield harness
    finally:
        channel.close()
        server.stop(None).wait()
        if harness._provider_server is not None:
            harness._provider_server.stop(None).wait()
        clients.close()
        _cleanup(base, kubelet_dir)


def _cleanup(base: str, kubelet_dir: str) -> None:
    """Unmount anything a failing root test left mounted, then remove the tree."""
    if os.geteuid() == 0:
        from kvcsi.driver.mounter import mount_points

        for point in sorted(mount_points(), reverse=True):
            if point.startswith(os.path.realpath(kubelet_dir) + "/"):
                subprocess.run(["umount", point], check=False)
    shutil.rmtree(base, ignore_errors=True)
