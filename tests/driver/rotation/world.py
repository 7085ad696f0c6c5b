"""A driver with rotation on, over real unix sockets, against the real local cluster store.

The publisher's clocks are replaced by :class:`FakeClock`, so the poll interval and backoff
are exercised without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kvcsi._proto import csi_pb2
from kvcsi.cluster import LocalClusterStore, apply_documents, connect, load_documents
from kvcsi.cluster.bundled import DRIVER_MANIFEST
from kvcsi.driver.mounter import DirectoryMounter, Mounter
from kvcsi.driver.publisher import PublisherConfig
from kvcsi.driver.rotation import BackoffPolicy

from ..harness import NODE_ID, DriverHarness, make_driver

SPC_GROUP = "secrets-store.csi.x-k8s.io"
INTERVAL = 120.0
BACKOFF = BackoffPolicy(initial=10.0, factor=2.0, cap=60.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def spc(name: str = "azure-kv", namespace: str = "default", secret_objects: list | None = None,
        parameters: dict | None = None) -> dict:
    body: dict = {
        "apiVersion": f"{SPC_GROUP}/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"provider": "fake",
                 "parameters": parameters or {"keyvaultName": "kv1", "objects": "array: []"}},
    }
    if secret_objects is not None:
        body["spec"]["secretObjects"] = secret_objects
    return body


def pod(name: str, namespace: str = "default", spc_name: str = "azure-kv",
        service_account: str = "default", owners: list | None = None) -> dict:
    metadata: dict = {"name": name, "namespace": namespace}
    if owners:
        metadata["ownerReferences"] = owners
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": metadata,
        "spec": {"nodeName": NODE_ID, "serviceAccountName": service_account,
                 "containers": [{"name": "app", "image": "busybox"}],
                 "volumes": [{"name": "secrets-store-inline", "csi": {
                     "driver": "secrets-store.csi.k8s.io", "readOnly": True,
                     "volumeAttributes": {"secretProviderClass": spc_name}}}]},
    }


def local_store(path: Path) -> LocalClusterStore:
    store = connect(str(path), create=True)
    result = apply_documents(store, load_documents(DRIVER_MANIFEST.read_text(),
                                                   str(DRIVER_MANIFEST)))
    assert not result.errors
    return store


@dataclass
class World:
    driver: DriverHarness
    store: LocalClusterStore
    clock: FakeClock

    def add_pod(self, name: str, **kwargs) -> dict:
        return self.store.create(pod(name, **kwargs))

    def request(self, pod_obj: dict, volume: str = "secrets-store-inline",
                **overrides) -> csi_pb2.NodePublishVolumeRequest:
        meta = pod_obj["metadata"]
        extra = {
            "csi.storage.k8s.io/pod.name": meta["name"],
            "csi.storage.k8s.io/pod.namespace": meta["namespace"],
            "csi.storage.k8s.io/pod.uid": meta["uid"],
            "csi.storage.k8s.io/serviceAccount.name":
                pod_obj["spec"].get("serviceAccountName", "default"),
            "secretProviderClass":
                pod_obj["spec"]["volumes"][0]["csi"]["volumeAttributes"]["secretProviderClass"],
        }
        extra.update(overrides.pop("volume_context_extra", {}))
        return self.driver.publish_request(
            target_path=self.driver.target(volume, meta["uid"]), volume_context_extra=extra,
            **overrides)

    def publish(self, pod_obj: dict, **overrides) -> None:
        self.driver.node.NodePublishVolume(self.request(pod_obj, **overrides))

    def events(self, pod_obj: dict) -> list[tuple[str, str, str]]:
        return [(e["type"], e["reason"], e["message"]) for e in self.store.events_for(pod_obj)]


def make_world(tmp_path: Path, rotation: bool = True, mounter: Mounter | None = None,
               interval: float = INTERVAL) -> Iterator[World]:
    store = local_store(tmp_path / "store.db")
    config = PublisherConfig(node_id=NODE_ID, rotation_enabled=rotation,
                             rotation_poll_interval=interval, rotation_backoff=BACKOFF)
    clock = FakeClock()
    drivers = make_driver(mounter or DirectoryMounter(), config=config, store=store)
    driver = next(drivers)
    driver.publisher.gate.clock = clock
    driver.publisher.fetcher.flights.clock = clock
    try:
        yield World(driver, store, clock)
    finally:
        drivers.close()
        store.close()
