"""LocalClusterStore: CRUD, apply, optimistic concurrency, status, GC, errors' exact texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_samples import pod

from kvcsi.cluster import (
    AlreadyExists,
    ClusterUnavailable,
    Conflict,
    Forbidden,
    Invalid,
    LocalClusterStore,
    NoKindMatch,
    NotFound,
    connect,
)


def test_initial_namespaces_and_default_service_accounts(store: LocalClusterStore) -> None:
    names = [ns["metadata"]["name"] for ns in store.list("v1", "Namespace")]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    accounts = store.list("v1", "ServiceAccount")
    assert [(a["metadata"]["namespace"], a["metadata"]["name"]) for a in accounts] == [
        ("default", "default"), ("kube-node-lease", "default"), ("kube-public", "default"),
        ("kube-system", "default"),
    ]


def test_create_fills_server_metadata(store: LocalClusterStore) -> None:
    before = store.watch_version()
    created = store.create(pod())
    meta = created["metadata"]
    assert meta["namespace"] == "default"
    assert meta["generation"] == 1
    assert meta["resourceVersion"] == str(before + 1)
    assert len(meta["uid"]) == 36
    assert meta["creationTimestamp"].endswith("Z")
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert created["spec"]["serviceAccountName"] == "default"
    assert store.get("v1", "Pod", "default", "mypod") == created
    assert store.watch_version() == before + 1


def test_cluster_scoped_kind_has_no_namespace(store: LocalClusterStore) -> None:
    created = store.create({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
                            "metadata": {"name": "secrets-store.csi.k8s.io", "namespace": "x"},
                            "spec": {"attachRequired": False}})
    assert "namespace" not in created["metadata"]
    assert store.get("storage.k8s.io/v1", "CSIDriver", None, "secrets-store.csi.k8s.io")


def test_not_found_texts(store: LocalClusterStore) -> None:
    with pytest.raises(NotFound) as pods:
        store.get("v1", "Pod", "default", "mypod")
    assert str(pods.value) == 'pods "mypod" not found'
    assert pods.value.kubectl_text() == 'Error from server (NotFound): pods "mypod" not found'
    with pytest.raises(NotFound) as sets:
        store.delete("apps/v1", "DaemonSet", "kube-system", "csi-secrets-store")
    assert str(sets.value) == 'daemonsets.apps "csi-secrets-store" not found'


def test_already_exists(store: LocalClusterStore) -> None:
    store.create(pod())
    with pytest.raises(AlreadyExists) as error:
        store.create(pod())
    assert str(error.value) == 'pods "mypod" already exists'
    assert error.value.kubectl_text() == (
        'Error from server (AlreadyExists): pods "mypod" already exists'
    )


def test_missing_namespace(store: LocalClusterStore) -> None:
    with pytest.raises(NotFound) as error:
        store.create(pod(namespace="x"))
    assert str(error.value) == 'namespaces "x" not found'
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})
    assert store.create(pod(namespace="x"))["metadata"]["namespace"] == "x"


def test_invalid_name(store: LocalClusterStore) -> None:
    with pytest.raises(Invalid) as error:
        store.create(pod(name="My_Pod"))
    assert str(error.value).startswith(
        'The Pod "My_Pod" is invalid: metadata.name: Invalid value: "My_Pod": a lowercase '
        "RFC 1123 subdomain must consist of lower case alphanumeric characters"
    )


def test_pod_service_account_must_exist(store: LocalClusterStore) -> None:
    body = pod()
    body["spec"]["serviceAccountName"] = "workload"
    with pytest.raises(Forbidden) as error:
        store.create(body)
    assert str(error.value) == (
        'pods "mypod" is forbidden: error looking up service account default/workload: '
        'serviceaccount "workload" not found'
    )


def test_unknown_kind(store: LocalClusterStore) -> None:
    with pytest.raises(NoKindMatch) as error:
        store.get("v1", "Widget", "default", "w")
    assert str(error.value) == 'no matches for kind "Widget" in version "v1"'
    assert error.value.hint is None


def test_list_sorted_and_label_selector(store: LocalClusterStore) -> None:
    for name, tier in (("b", "web"), ("a", "web"), ("c", "db")):
        body = pod(name=name)
        body["metadata"]["labels"] = {"tier": tier}
        store.create(body)
    assert [p["metadata"]["name"] for p in store.list("v1", "Pod")] == ["a", "b", "c"]
    web = store.list("v1", "Pod", "default", label_selector={"tier": "web"})
    assert [p["metadata"]["name"] for p in web] == ["a", "b"]
    assert [p["metadata"]["name"] for p in store.list("v1", "Pod", None, "tier!=web")] == ["c"]
    assert store.list("v1", "Pod", "kube-system") == []


def test_apply_created_configured_unchanged(store: LocalClusterStore) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
          "data": {"a": "1"}}
    first, action = store.apply(cm)
    assert action == "created"
    again, action = store.apply(cm)
    assert action == "unchanged"
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    changed = {**cm, "data": {"a": "2"}, "metadata": {"name": "cfg", "labels": {"x": "y"}}}
    stored, action = store.apply(changed)
    assert action == "configured"
    assert stored["data"] == {"a": "2"}
    assert stored["metadata"]["labels"] == {"x": "y"}
    assert stored["metadata"]["uid"] == first["metadata"]["uid"]
    assert stored["metadata"]["creationTimestamp"] == first["metadata"]["creationTimestamp"]
    assert stored["metadata"]["generation"] == 2
    assert int(stored["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])


def test_apply_keeps_status(store: LocalClusterStore) -> None:
    store.apply(pod())
    store.update_status("v1", "Pod", "default", "mypod", {"phase": "Running"})
    stored, action = store.apply(pod())
    assert action == "unchanged"
    assert stored["status"] == {"phase": "Running"}
    stored, action = store.apply(pod(image="nginx:1.27"))
    assert action == "configured"
    assert stored["status"] == {"phase": "Running"}
    assert stored["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_pod_spec_is_immutable_beyond_images(store: LocalClusterStore) -> None:
    store.apply(pod())
    changed = pod()
    changed["spec"]["containers"][0]["name"] = "other"
    with pytest.raises(Invalid) as error:
        store.apply(changed)
    assert str(error.value).startswith(
        'The Pod "mypod" is invalid: spec: Forbidden: pod updates may not change fields other '
        "than `spec.containers[*].image`"
    )


def test_replace_with_stale_resource_version_conflicts(store: LocalClusterStore) -> None:
    created = store.create({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "cfg"}, "data": {"a": "1"}})
    first = dict(created, data={"a": "2"})
    replaced = store.replace(first)
    assert replaced["data"] == {"a": "2"}
    stale = dict(created, data={"a": "3"})
    with pytest.raises(Conflict) as error:
        store.replace(stale)
    assert str(error.value) == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    unconditional = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                     "data": {"a": "4"}}
    assert store.replace(unconditional)["data"] == {"a": "4"}
    with pytest.raises(NotFound):
        store.replace({**unconditional, "metadata": {"name": "nope"}})


def test_status_writes_do_not_bump_generation(store: LocalClusterStore) -> None:
    store.create(pod())
    updated = store.update_status("v1", "Pod", None, "mypod", {"phase": "Running"})
    assert updated["status"] == {"phase": "Running"}
    assert updated["metadata"]["generation"] == 1
    patched = store.patch_status("v1", "Pod", None, "mypod", {"podIP": "10.0.0.1", "phase": None})
    assert patched["status"] == {"podIP": "10.0.0.1"}


def test_delete_returns_object_and_collects_dependents(store: LocalClusterStore) -> None:
    owner = store.create(pod())
    store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "dependent", "ownerReferences": [
            {"apiVersion": "v1", "kind": "Pod", "name": "mypod",
             "uid": owner["metadata"]["uid"]}]}})
    store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}})
    deleted = store.delete("v1", "Pod", "default", "mypod")
    assert deleted["metadata"]["uid"] == owner["metadata"]["uid"]
    assert [c["metadata"]["name"] for c in store.list("v1", "ConfigMap")] == ["other"]
    with pytest.raises(NotFound):
        store.get("v1", "Pod", "default", "mypod")


def test_a_dependent_with_two_owners_goes_only_with_the_last(store: LocalClusterStore) -> None:
    first = store.create(pod(name="first"))
    second = store.create(pod(name="second"))
    refs = [{"apiVersion": "v1", "kind": "Pod", "name": owner["metadata"]["name"],
             "uid": owner["metadata"]["uid"]} for owner in (first, second)]
    store.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                  "metadata": {"name": "shared", "ownerReferences": refs}})

    store.delete("v1", "Pod", "default", "first", grace_period_seconds=0)
    kept = store.get("v1", "Secret", "default", "shared")
    assert kept["metadata"]["ownerReferences"] == refs[1:]

    store.delete("v1", "Pod", "default", "second", grace_period_seconds=0)
    with pytest.raises(NotFound):
        store.get("v1", "Secret", "default", "shared")


def test_deleting_a_namespace_deletes_its_objects(store: LocalClusterStore) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    store.create(pod(namespace="team"))
    store.delete("v1", "Namespace", None, "team")
    assert store.list("v1", "Pod") == []


def test_two_stores_share_one_file(store_path: Path) -> None:
    first = LocalClusterStore(store_path)
    second = LocalClusterStore(store_path)
    try:
        version = second.watch_version()
        first.create(pod())
        assert second.watch_version() == version + 1
        assert second.get("v1", "Pod", "default", "mypod")["metadata"]["name"] == "mypod"
        with pytest.raises(AlreadyExists):
            second.create(pod())
    finally:
        first.close()
        second.close()


def test_connect_needs_a_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KVCSI_CLUSTER_STORE", raising=False)
    with pytest.raises(ClusterUnavailable) as error:
        connect()
    assert "no cluster: kvcsi needs a Kubernetes cluster" in str(error.value)
    with pytest.raises(ClusterUnavailable) as missing:
        connect(tmp_path / "nope.db")
    assert str(missing.value).startswith(f"no cluster at {tmp_path / 'nope.db'}")
    path = tmp_path / "store.db"
    connect(path, create=True).close()
    monkeypatch.setenv("KVCSI_CLUSTER_STORE", str(path))
    opened = connect()
    assert isinstance(opened, LocalClusterStore)
    assert opened.path == path
    opened.close()


def test_bound_pod_is_deleted_gracefully(store: LocalClusterStore) -> None:
    bound = pod()
    bound["spec"]["nodeName"] = "aks-nodepool1-12345678-vmss000000"
    store.create(bound)
    store.create(pod(name="unbound"))
    marked = store.delete("v1", "Pod", "default", "mypod")
    assert marked["metadata"]["deletionTimestamp"].endswith("Z")
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
    again = store.delete("v1", "Pod", "default", "mypod")
    assert again["metadata"]["resourceVersion"] == marked["metadata"]["resourceVersion"]
    assert store.get("v1", "Pod", "default", "mypod")["metadata"]["deletionTimestamp"]
    store.delete("v1", "Pod", "default", "mypod", grace_period_seconds=0)
    store.delete("v1", "Pod", "default", "unbound")
    assert store.list("v1", "Pod") == []


def test_binding_a_pod_to_a_node_is_allowed_once(store: LocalClusterStore) -> None:
    created = store.create(pod())
    created["spec"]["nodeName"] = "node0"
    bound = store.replace(created)
    assert bound["spec"]["nodeName"] == "node0"
    bound["spec"]["nodeName"] = "node1"
    with pytest.raises(Invalid):
        store.replace(bound)


def test_reapplying_keeps_the_node_binding(store: LocalClusterStore) -> None:
    created = store.create(pod())
    created["spec"]["nodeName"] = "node0"
    store.replace(created)
    stored, action = store.apply(pod())
    assert action == "unchanged"
    assert stored["spec"]["nodeName"] == "node0"
