"""The Kubernetes API adapter against a recording API server: paths, verbs, bodies, errors."""

from __future__ import annotations

import pytest
from fake_apiserver import SPC_GROUP, status

from kvcsi.cluster import connect
from kvcsi.cluster.errors import (
    AlreadyExists,
    ClusterUnavailable,
    Conflict,
    NoKindMatch,
    NotFound,
)
from kvcsi.cluster.kube_config import KubeTarget, load_configuration
from kvcsi.cluster.kube_store import KubeClusterStore

SPC_V1 = f"{SPC_GROUP}/v1"
SPC_PATH = f"/apis/{SPC_GROUP}/v1/namespaces/default/secretproviderclasses"
SPCPS_PATH = f"/apis/{SPC_GROUP}/v1/namespaces/default/secretproviderclasspodstatuses"
NODE_LABEL = "internal.secrets-store.csi.k8s.io/node-name"


def spc(name: str = "azure-kv") -> dict:
    return {
        "apiVersion": SPC_V1,
        "kind": "SecretProviderClass",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"provider": "azure", "parameters": {"keyvaultName": "kv1"}},
    }


def spcps(name: str, node: str) -> dict:
    return {
        "apiVersion": SPC_V1,
        "kind": "SecretProviderClassPodStatus",
        "metadata": {"name": name, "namespace": "default", "labels": {NODE_LABEL: node}},
        "status": {"podName": name, "mounted": True},
    }


def test_get_spc_uses_the_crd_path_and_the_kubeconfig_token(kube, api):
    api.put_object(spc())
    got = kube.get(SPC_V1, "SecretProviderClass", "default", "azure-kv")
    assert got["spec"] == {"provider": "azure", "parameters": {"keyvaultName": "kv1"}}
    assert got["apiVersion"] == SPC_V1
    request = api.requests[-1]
    assert (request.method, request.path) == ("GET", f"{SPC_PATH}/azure-kv")
    assert request.authorization == "Bearer test-bearer-token"


def test_v1alpha1_is_read_through_its_own_version_path(kube, api):
    api.put_object(spc())
    got = kube.get(f"{SPC_GROUP}/v1alpha1", "SecretProviderClass", "default", "azure-kv")
    assert got["apiVersion"] == f"{SPC_GROUP}/v1alpha1"
    assert api.calls()[-1] == (
        "GET", f"/apis/{SPC_GROUP}/v1alpha1/namespaces/default/secretproviderclasses/azure-kv"
    )


def test_not_found_carries_the_api_server_text(kube, api):
    with pytest.raises(NotFound) as raised:
        kube.get(SPC_V1, "SecretProviderClass", "default", "missing")
    assert str(raised.value) == (
        'secretproviderclasses.secrets-store.csi.x-k8s.io "missing" not found'
    )


def test_unserved_kind_is_no_kind_match(kube, api):
    with pytest.raises(NoKindMatch) as raised:
        kube.get("apps/v1", "Deployment", "default", "web")
    assert str(raised.value) == 'no matches for kind "Deployment" in version "apps/v1"'
    assert api.calls()[-1] == ("GET", "/apis/apps/v1/namespaces/default/deployments/web")


def test_create_posts_the_body_and_already_exists_is_409(kube, api):
    created = kube.create(spcps("p1-default-azure-kv", "node-a"))
    assert created["metadata"]["resourceVersion"] == "101"
    request = api.requests[-1]
    assert (request.method, request.path) == ("POST", SPCPS_PATH)
    assert request.body["metadata"]["labels"] == {NODE_LABEL: "node-a"}
    with pytest.raises(AlreadyExists) as raised:
        kube.create(spcps("p1-default-azure-kv", "node-b"))
    assert str(raised.value) == (
        'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io "p1-default-azure-kv" '
        "already exists"
    )


def test_list_sends_the_node_label_selector(kube, api):
    api.put_object(spcps("b-default-x", "node-a"))
    api.put_object(spcps("a-default-x", "node-a"))
    api.put_object(spcps("c-default-x", "node-b"))
    found = kube.list(SPC_V1, "SecretProviderClassPodStatus", "default", {NODE_LABEL: "node-a"})
    assert [o["metadata"]["name"] for o in found] == ["a-default-x", "b-default-x"]
    assert {o["kind"] for o in found} == {"SecretProviderClassPodStatus"}
    request = api.requests[-1]
    assert (request.method, request.path) == ("GET", SPCPS_PATH)
    assert request.query == {"labelSelector": f"{NODE_LABEL}=node-a"}
    everywhere = kube.list(SPC_V1, "SecretProviderClassPodStatus", None, f"{NODE_LABEL}=node-b")
    assert [o["metadata"]["name"] for o in everywhere] == ["c-default-x"]
    assert api.calls()[-1] == ("GET", f"/apis/{SPC_GROUP}/v1/secretproviderclasspodstatuses")


def test_replace_puts_with_the_resource_version_and_stale_is_conflict(kube, api):
    stored = api.put_object(spcps("p-default-x", "node-a"))
    current = kube.get(SPC_V1, "SecretProviderClassPodStatus", "default", "p-default-x")
    current["status"]["mounted"] = False
    replaced = kube.replace(current)
    request = api.requests[-1]
    assert (request.method, request.path) == ("PUT", f"{SPCPS_PATH}/p-default-x")
    assert request.body["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    assert replaced["status"]["mounted"] is False
    with pytest.raises(Conflict) as raised:
        kube.replace(current)  # the resourceVersion read before the first replace
    assert "the object has been modified" in str(raised.value)


def test_replace_without_resource_version_reads_it_first(kube, api):
    api.put_object(spcps("p-default-x", "node-a"))
    kube.replace(spcps("p-default-x", "node-z"))
    assert api.calls()[-2:] == [
        ("GET", f"{SPCPS_PATH}/p-default-x"),
        ("PUT", f"{SPCPS_PATH}/p-default-x"),
    ]
    assert api.requests[-1].body["metadata"]["resourceVersion"] == "101"


def test_status_of_a_crd_without_subresource_is_written_with_the_object(kube, api):
    api.put_object(spcps("p-default-x", "node-a"))
    kube.patch_status(SPC_V1, "SecretProviderClassPodStatus", "default", "p-default-x",
                      {"mounted": False})
    request = api.requests[-1]
    assert (request.method, request.path) == ("PATCH", f"{SPCPS_PATH}/p-default-x")
    assert request.content_type == "application/merge-patch+json"
    assert request.body["status"] == {"mounted": False}
    assert api.stored(SPC_GROUP, "secretproviderclasspodstatuses", "default",
                      "p-default-x")["status"] == {"podName": "p-default-x", "mounted": False}


def test_pod_status_goes_to_the_status_subresource_and_retries_conflicts(kube, api):
    api.put_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                    "spec": {"nodeName": "node-a"}, "status": {"phase": "Pending"}})
    api.fail_next("PUT", "/pods/web/status", 409, status(
        409, "Conflict", 'Operation cannot be fulfilled on pods "web": the object has been '
        "modified; please apply your changes to the latest version and try again",
        {"name": "web", "kind": "pods"}))
    updated = kube.update_status("v1", "Pod", "default", "web", {"phase": "Running"})
    assert updated["status"] == {"phase": "Running"}
    assert api.calls()[-4:] == [
        ("GET", "/api/v1/namespaces/default/pods/web"),
        ("PUT", "/api/v1/namespaces/default/pods/web/status"),
        ("GET", "/api/v1/namespaces/default/pods/web"),
        ("PUT", "/api/v1/namespaces/default/pods/web/status"),
    ]
    kube.patch_status("v1", "Pod", "default", "web", {"podIP": "10.0.0.5"})
    request = api.requests[-1]
    assert (request.method, request.path, request.content_type) == (
        "PATCH", "/api/v1/namespaces/default/pods/web/status", "application/merge-patch+json"
    )
    assert api.stored("", "pods", "default", "web")["status"] == {
        "phase": "Running", "podIP": "10.0.0.5"
    }


def test_secrets_use_the_core_api(kube, api):
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "db", "labels": {"secrets-store.csi.k8s.io/managed": "true"}},
              "data": {"password": "czNjcjN0"}}
    kube.create(secret)
    assert api.calls()[-1] == ("POST", "/api/v1/namespaces/default/secrets")
    assert api.requests[-1].body["data"] == {"password": "czNjcjN0"}
    managed = kube.list("v1", "Secret", "default", "secrets-store.csi.k8s.io/managed=true")
    assert [s["metadata"]["name"] for s in managed] == ["db"]
    kube.delete("v1", "Secret", "default", "db")
    assert api.calls()[-1] == ("DELETE", "/api/v1/namespaces/default/secrets/db")


def test_pod_delete_sends_the_grace_period(kube, api):
    api.put_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}})
    kube.delete("v1", "Pod", "default", "web", grace_period_seconds=0)
    request = api.requests[-1]
    assert (request.method, request.path) == ("DELETE", "/api/v1/namespaces/default/pods/web")
    assert request.query == {"gracePeriodSeconds": "0"}


def test_events_are_posted_then_folded_by_patch(kube, api):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "web", "namespace": "default", "uid": "u-1"}}
    first = kube.record_event(pod, "Warning", "FailedMount", "boom", "kubelet", "node-a")
    assert api.calls()[-1] == ("POST", "/api/v1/namespaces/default/events")
    assert api.requests[-1].body["involvedObject"] == {
        "kind": "Pod", "namespace": "default", "name": "web", "uid": "u-1", "apiVersion": "v1"
    }
    again = kube.record_event(pod, "Warning", "FailedMount", "boom", "kubelet", "node-a")
    request = api.requests[-1]
    assert (request.method, request.path) == (
        "PATCH", f"/api/v1/namespaces/default/events/{first['metadata']['name']}"
    )
    assert request.content_type == "application/merge-patch+json"
    assert again["count"] == 2
    listed = kube.events_for(pod)
    assert [(e["reason"], e["count"]) for e in listed] == [("FailedMount", 2)]
    assert api.requests[-1].query == {
        "fieldSelector": "involvedObject.kind=Pod,involvedObject.name=web,"
                         "involvedObject.namespace=default"
    }


def test_apply_creates_then_configures_then_leaves_unchanged(kube, api):
    _obj, action = kube.apply(spc())
    assert action == "created"
    changed = spc()
    changed["spec"]["parameters"]["keyvaultName"] = "kv2"
    assert kube.apply(changed)[1] == "configured"
    assert api.calls()[-1] == ("PUT", f"{SPC_PATH}/azure-kv")
    assert kube.apply(changed)[1] == "unchanged"
    assert api.calls()[-1] == ("GET", f"{SPC_PATH}/azure-kv")


def test_watch_version_is_the_list_resource_version(kube, api):
    api.put_object(spc())
    assert kube.watch_version() == api.revision


def test_connect_by_environment_uses_the_kubeconfig(running_api, tmp_path, monkeypatch, api):
    monkeypatch.delenv("KVCSI_CLUSTER_STORE", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KVCSI_CLUSTER", "kubernetes")
    monkeypatch.setenv("KUBECONFIG", running_api.kubeconfig(tmp_path / "config"))
    store = connect()
    try:
        assert isinstance(store, KubeClusterStore)
        assert store.configuration.host == running_api.url
    finally:
        store.close()


def test_in_cluster_configuration_is_chosen_inside_a_pod(tmp_path, monkeypatch):
    from kubernetes.config import incluster_config

    token = tmp_path / "token"
    token.write_text("in-cluster-token")
    ca = tmp_path / "ca.crt"
    ca.write_text("not checked here")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.delenv("KVCSI_CLUSTER_STORE", raising=False)
    monkeypatch.delenv("KVCSI_CLUSTER", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    store = connect()
    try:
        assert isinstance(store, KubeClusterStore)
        assert store.configuration.host == "https://127.0.0.1:6443"
        assert store.configuration.ssl_ca_cert == str(ca)
        assert store.configuration.api_key["BearerToken"] == "bearer in-cluster-token"
    finally:
        store.close()


def test_in_cluster_without_service_account_files_is_unavailable(tmp_path, monkeypatch):
    from kubernetes.config import incluster_config

    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "none"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    with pytest.raises(ClusterUnavailable) as raised:
        load_configuration(KubeTarget(in_cluster=True))
    assert str(raised.value).startswith(
        "no cluster: cannot load the Kubernetes API configuration from in-cluster configuration"
    )


def test_local_store_still_wins_when_its_path_is_set(tmp_path, monkeypatch):
    path = tmp_path / "store.db"
    connect(str(path), create=True).close()
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KVCSI_CLUSTER_STORE", str(path))
    store = connect()
    try:
        assert type(store).__name__ == "LocalClusterStore"
    finally:
        store.close()


def test_unreachable_api_server_is_cluster_unavailable(tmp_path, monkeypatch):
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = "http://127.0.0.1:9"  # discard port: nothing listens
    configuration.retries = 0
    store = KubeClusterStore(configuration)
    try:
        with pytest.raises(ClusterUnavailable) as raised:
            store.get(SPC_V1, "SecretProviderClass", "default", "x")
    finally:
        store.close()
    assert str(raised.value).startswith(
        "the Kubernetes API server at http://127.0.0.1:9 is unreachable"
    )
