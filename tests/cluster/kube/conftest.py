"""Fixtures: a fake API server on 127.0.0.1 and a KubeClusterStore connected to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_apiserver import FakeApiServer, RunningApiServer

from kvcsi.cluster import connect
from kvcsi.cluster.kube_store import KubeClusterStore


@pytest.fixture
def running_api() -> Iterator[RunningApiServer]:
    server = RunningApiServer()
    with server:
        yield server


@pytest.fixture
def api(running_api: RunningApiServer) -> FakeApiServer:
    return running_api.api


@pytest.fixture
def kube(running_api: RunningApiServer, tmp_path, monkeypatch) -> Iterator[KubeClusterStore]:
    for name in ("KVCSI_CLUSTER", "KUBERNETES_SERVICE_HOST", "KVCSI_CLUSTER_STORE"):
        monkeypatch.delenv(name, raising=False)
    store = connect("kube:" + running_api.kubeconfig(tmp_path / "kubeconfig"))
    assert isinstance(store, KubeClusterStore)
    yield store
    store.close()
