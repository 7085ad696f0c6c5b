"""The real ``secrets-store-csi-driver`` process for conformance tests, and request builders.

The driver runs as ``python -m kvcsi.driver`` with upstream flags and
``$KVCSI_CLUSTER_STORE`` pointing at a local store holding the upstream CRDs and one
SecretProviderClass; tests talk to it over its real unix socket (or TCP endpoint).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.cluster import apply_documents, connect, load_documents
from kvcsi.cluster.bundled import DRIVER_MANIFEST

POD_NAME = "busybox-secrets-store-inline"
POD_UID = "7d3a9c1e-5b2f-4e8a-9c6d-1f0e2d3c4b5a"
SPC_YAML = """
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: azure-kv
  namespace: default
spec:
  provider: fake
  parameters:
    keyvaultName: kv1
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: azure-spc
  namespace: default
spec:
  provider: azure
  parameters:
    keyvaultName: kv1
---
apiVersion: secrets-store.csi.x-k8s.io/v1alpha1
kind: SecretProviderClass
metadata:
  name: alpha-spc
  namespace: default
spec:
  provider: fake
  parameters:
    keyvaultName: kv-alpha
"""
SERVICE_ACCOUNT_TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.c2lnbmF0dXJl"
TOKENS_KEY = "csi.storage.k8s.io/serviceAccount.tokens"


def make_store(path: Path, extra_yaml: str = "") -> str:
    """A local cluster store with the upstream CRDs, CSIDriver and the test SPC."""
    store = connect(str(path), create=True)
    try:
        for text, source in ((DRIVER_MANIFEST.read_text(), str(DRIVER_MANIFEST)),
                             (SPC_YAML + extra_yaml, "spc.yaml")):
            result = apply_documents(store, load_documents(text, source))
            assert not result.errors, result.stderr_text()
    finally:
        store.close()
    return str(path)


def target_path(kubelet_dir: str, volume: str = "secrets-store-inline",
                uid: str = POD_UID) -> str:
    return os.path.join(kubelet_dir, "pods", uid, "volumes", "kubernetes.io~csi", volume,
                        "mount")


def capability() -> csi_pb2.VolumeCapability:
    return csi_pb2.VolumeCapability(
        mount=csi_pb2.VolumeCapability.MountVolume(),
        access_mode=csi_pb2.VolumeCapability.AccessMode(
            mode=csi_pb2.VolumeCapability.AccessMode.SINGLE_NODE_READER_ONLY
        ),
    )


def publish_request(target: str, **overrides) -> csi_pb2.NodePublishVolumeRequest:
    """A NodePublishVolumeRequest as kubelet sends it for an inline volume."""
    context = {
        "secretProviderClass": "azure-kv",
        "csi.storage.k8s.io/pod.name": POD_NAME,
        "csi.storage.k8s.io/pod.namespace": "default",
        "csi.storage.k8s.io/pod.uid": POD_UID,
        "csi.storage.k8s.io/serviceAccount.name": "default",
        "csi.storage.k8s.io/ephemeral": "true",
    }
    context.update(overrides.pop("volume_context_extra", {}))
    fields = {
        "volume_id": "csi-" + "ab" * 32,
        "target_path": target,
        "volume_capability": capability(),
        "readonly": True,
        "volume_context": context,
    }
    fields.update(overrides)
    return csi_pb2.NodePublishVolumeRequest(**fields)


@dataclass
class DriverProcess:
    """A running driver; ``stubs`` over its endpoint, ``log()`` its stderr so far."""

    process: subprocess.Popen
    log_path: Path
    target: str
    channel: grpc.Channel = field(init=False)

    def __post_init__(self) -> None:
        self.channel = grpc.insecure_channel(self.target)
        self.identity = csi_pb2_grpc.IdentityStub(self.channel)
        self.node = csi_pb2_grpc.NodeStub(self.channel)
        self.controller = csi_pb2_grpc.ControllerStub(self.channel)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_match(self, pattern: str, timeout: float = 10.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not in the driver log:\n{self.log()}")

    def stop(self) -> int:
        self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_driver(base: str, store_path: str, *flags: str,
                 endpoint: str | None = None) -> DriverProcess:
    """Start the driver with ``flags`` (plus ``--endpoint``) and wait until it serves."""
    endpoint = endpoint or f"unix://{base}/csi.sock"
    log_path = Path(base) / f"driver-{time.monotonic_ns()}.log"
    env = dict(os.environ, KVCSI_CLUSTER_STORE=store_path)
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "kvcsi.driver", f"--endpoint={endpoint}", *flags],
            env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    pattern = r"Listening for connections on address: (unix|tcp)://(\S+)"
    deadline = time.monotonic() + 30
    while True:
        found = re.search(pattern, log_path.read_text(errors="replace"))
        if found:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"driver did not start:\n{log_path.read_text()}")
        time.sleep(0.05)
    scheme, address = found.groups()
    target = f"unix:{address}" if scheme == "unix" else address
    driver = DriverProcess(process, log_path, target)
    grpc.channel_ready_future(driver.channel).result(timeout=10)
    return driver
