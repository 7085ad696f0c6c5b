"""The driver against the real local cluster store (kvcsi.cluster) with the upstream CRDs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import grpc
import pytest

from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.cluster import LocalClusterStore, apply_documents, connect, load_documents
from kvcsi.cluster.bundled import DRIVER_MANIFEST
from kvcsi.driver.mounter import DirectoryMounter

from .harness import (
    NODE_ID,
    POD_UID,
    DriverHarness,
    FakeProvider,
    make_driver,
    serve_provider,
    short_tmpdir,
)

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
"""
POD = "busybox-secrets-store-inline"


@pytest.fixture
def local_store(tmp_path) -> Iterator[LocalClusterStore]:
    store = connect(str(tmp_path / "store.db"), create=True)
    manifest = DRIVER_MANIFEST.read_text()
    result = apply_documents(store, load_documents(manifest, str(DRIVER_MANIFEST)))
    assert not result.errors
    result = apply_documents(store, load_documents(SPC_YAML, "spc.yaml"))
    assert not result.errors
    yield store
    store.close()


@pytest.fixture
def driver_on_local_store(local_store) -> Iterator[DriverHarness]:
    yield from make_driver(DirectoryMounter(), store=local_store)


def test_publish_records_pod_status_in_the_local_store(driver_on_local_store, local_store):
    driver = driver_on_local_store
    driver.provider.files = [("username", 0o644, b"admin")]

    driver.node.NodePublishVolume(driver.publish_request())

    status = local_store.get(
        "secrets-store.csi.x-k8s.io/v1",
        "SecretProviderClassPodStatus",
        "default",
        f"{POD}-default-azure-kv",
    )
    assert status["metadata"]["labels"] == {"internal.secrets-store.csi.k8s.io/node-name": NODE_ID}
    assert status["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": POD, "uid": POD_UID}
    ]
    assert status["status"] == {
        "podName": POD,
        "secretProviderClassName": "azure-kv",
        "mounted": True,
        "targetPath": driver.target(),
        "objects": [{"id": "secret/foo", "version": "v1"}],
    }


def test_missing_spc_in_the_local_store(driver_on_local_store):
    driver = driver_on_local_store
    request = driver.publish_request(volume_context_extra={"secretProviderClass": "nope"})
    with pytest.raises(grpc.RpcError) as raised:
        driver.node.NodePublishVolume(request)
    assert raised.value.details() == (
        "failed to get secretproviderclass default/nope, error: "
        'secretproviderclasses.secrets-store.csi.x-k8s.io "nope" not found in namespace "default"'
    )


def test_existing_pod_status_is_updated_in_the_local_store(driver_on_local_store, local_store):
    local_store.create(
        {
            "apiVersion": "secrets-store.csi.x-k8s.io/v1",
            "kind": "SecretProviderClassPodStatus",
            "metadata": {
                "name": f"{POD}-default-azure-kv",
                "namespace": "default",
                "labels": {"internal.secrets-store.csi.k8s.io/node-name": "old-node"},
            },
            "status": {"podName": POD, "mounted": True, "targetPath": "/old"},
        }
    )

    driver_on_local_store.node.NodePublishVolume(driver_on_local_store.publish_request())

    status = local_store.get(
        "secrets-store.csi.x-k8s.io/v1",
        "SecretProviderClassPodStatus",
        "default",
        f"{POD}-default-azure-kv",
    )
    assert status["metadata"]["labels"] == {"internal.secrets-store.csi.k8s.io/node-name": NODE_ID}
    assert status["status"]["targetPath"] == driver_on_local_store.target()


def test_driver_process_serves_a_publish(local_store, tmp_path):
    """``python -m kvcsi.driver`` with the store from $KVCSI_CLUSTER_STORE, end to end."""
    base = short_tmpdir()
    os.makedirs(f"{base}/providers")
    provider = FakeProvider(files=[("username", 0o600, b"admin")])
    provider_server = serve_provider(provider, f"{base}/providers/fake.sock")
    env = dict(os.environ, KVCSI_CLUSTER_STORE=str(tmp_path / "store.db"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kvcsi.driver",
            f"--endpoint=unix://{base}/csi.sock",
            "--nodeid=node-a",
            f"--provider-volume={base}/providers",
            f"--additional-provider-volume-paths={base}/etc",
            "--metrics-addr=0",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    target = f"{base}/pods/{POD_UID}/volumes/kubernetes.io~csi/vol/mount"
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(f"{base}/csi.sock") and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.05)
        with grpc.insecure_channel(f"unix:{base}/csi.sock") as channel:
            node = csi_pb2_grpc.NodeStub(channel)
            node.NodePublishVolume(
                csi_pb2.NodePublishVolumeRequest(
                    volume_id="csi-1",
                    target_path=target,
                    volume_capability=csi_pb2.VolumeCapability(
                        mount=csi_pb2.VolumeCapability.MountVolume()
                    ),
                    readonly=True,
                    volume_context={
                        "secretProviderClass": "azure-kv",
                        "csi.storage.k8s.io/pod.name": POD,
                        "csi.storage.k8s.io/pod.namespace": "default",
                        "csi.storage.k8s.io/pod.uid": POD_UID,
                    },
                ),
                timeout=30,
            )
            with open(f"{target}/username", "rb") as f:
                assert f.read() == b"admin"
            node.NodeUnpublishVolume(
                csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-1", target_path=target),
                timeout=30,
            )
        assert not os.path.lexists(target)
    finally:
        process.terminate()
        process.wait(timeout=20)
        provider_server.stop(None).wait()
        shutil.rmtree(base, ignore_errors=True)
    assert process.returncode == 0
