"""Discovery: built-in kinds, CRD-served kinds, NoKindMatch and the wrong-group hint."""

from __future__ import annotations

import pytest
from cluster_samples import DRIVER_URL, spc

from kvcsi.cluster import LocalClusterStore, NoKindMatch, NotFound
from kvcsi.cluster.kinds import find_resource, resolve
from kvcsi.cluster.manifests import apply_sources

HINT = (
    "hint (kvcsi): secrets-store.csi.k8s.io is the CSI driver name, not an API group; the "
    "SecretProviderClass API group is secrets-store.csi.x-k8s.io: use apiVersion: "
    "secrets-store.csi.x-k8s.io/v1"
)


def test_builtin_kind_names() -> None:
    daemonset = resolve("apps/v1", "DaemonSet", [])
    assert (daemonset.resource_ref, daemonset.kubectl_type) == ("daemonsets.apps", "daemonset.apps")
    assert resolve("v1", "Pod", []).resource_ref == "pods"
    assert resolve("storage.k8s.io/v1", "CSIDriver", []).namespaced is False
    with pytest.raises(NoKindMatch):
        resolve("apps/v1beta2", "Deployment", [])


def test_wrong_group_gets_the_hint(store: LocalClusterStore) -> None:
    with pytest.raises(NoKindMatch) as error:
        store.create(spc("secrets-store.csi.k8s.io/v1alpha1"))
    assert str(error.value) == (
        'no matches for kind "SecretProviderClass" in version '
        '"secrets-store.csi.k8s.io/v1alpha1"'
    )
    assert error.value.hint == HINT
    assert error.value.mapping_text("azure-kvname", "", "pod.yaml") == (
        'resource mapping not found for name: "azure-kvname" namespace: "" from "pod.yaml": '
        'no matches for kind "SecretProviderClass" in version '
        '"secrets-store.csi.k8s.io/v1alpha1"\nensure CRDs are installed first\n' + HINT
    )


def test_spc_refused_before_crds_and_accepted_after(store: LocalClusterStore) -> None:
    with pytest.raises(NoKindMatch) as before:
        store.create(spc())
    assert before.value.hint is None
    assert apply_sources(store, [DRIVER_URL]).exit_code == 0
    created = store.create(spc())
    assert created["apiVersion"] == "secrets-store.csi.x-k8s.io/v1"
    with pytest.raises(NotFound) as missing:
        store.get("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass", "default", "x")
    assert str(missing.value) == (
        'secretproviderclasses.secrets-store.csi.x-k8s.io "x" not found'
    )


def test_crd_versions_and_deprecation(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL])
    v1 = store.resolve_kind("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")
    alpha = store.resolve_kind("secrets-store.csi.x-k8s.io/v1alpha1", "SecretProviderClass")
    assert (v1.deprecated, v1.deprecation_warning, v1.namespaced) == (False, None, True)
    assert alpha.deprecation_warning == (
        "secrets-store.csi.x-k8s.io/v1alpha1 is deprecated. Use secrets-store.csi.x-k8s.io/v1 "
        "instead."
    )
    assert alpha.storage_api_version == "secrets-store.csi.x-k8s.io/v1"
    status_alpha = store.resolve_kind(
        "secrets-store.csi.x-k8s.io/v1alpha1", "SecretProviderClassPodStatus"
    )
    assert status_alpha.deprecation_warning == (
        "secrets-store.csi.x-k8s.io/v1alpha1 SecretProviderClassPodStatus is deprecated"
    )


def test_v1alpha1_is_stored_as_v1(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL])
    created = store.create(spc("secrets-store.csi.x-k8s.io/v1alpha1"))
    assert created["apiVersion"] == "secrets-store.csi.x-k8s.io/v1alpha1"
    as_v1 = store.get("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass", "default",
                      "azure-kvname")
    assert as_v1["apiVersion"] == "secrets-store.csi.x-k8s.io/v1"
    assert as_v1["spec"] == created["spec"]
    assert as_v1["metadata"]["uid"] == created["metadata"]["uid"]


def test_deleting_the_crd_removes_its_objects(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL])
    store.create(spc())
    store.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", None,
                 "secretproviderclasses.secrets-store.csi.x-k8s.io")
    with pytest.raises(NoKindMatch):
        store.list("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")
    apply_sources(store, [DRIVER_URL])
    assert store.list("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass") == []


def test_crd_gets_established_status(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL])
    crd = store.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None,
                    "secretproviderclasses.secrets-store.csi.x-k8s.io")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["storedVersions"] == ["v1"]


def test_find_resource_words(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL])
    assert [k.kind for k in store.find_resource("po")] == ["Pod"]
    assert [k.kind for k in store.find_resource("daemonsets.apps")] == ["DaemonSet"]
    found = store.find_resource("secretproviderclasses")
    assert [(k.kind, k.version) for k in found] == [
        ("SecretProviderClass", "v1"), ("SecretProviderClass", "v1alpha1"),
    ]
    assert find_resource("widgets", []) == []


def test_pod_status_record_lives_and_dies_with_its_pod(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL])
    mypod = store.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "mypod"},
                          "spec": {"nodeName": "node0",
                                   "containers": [{"name": "c", "image": "nginx"}]}})
    record = {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": "mypod-default-azure-kvname",
            "namespace": "default",
            "labels": {"internal.secrets-store.csi.k8s.io/node-name": "node0"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "mypod",
                                 "uid": mypod["metadata"]["uid"]}],
        },
        "status": {"podName": "mypod", "secretProviderClassName": "azure-kvname",
                   "mounted": True, "targetPath": "/t",
                   "objects": [{"id": "secret/MySecret", "version": "abc"}]},
    }
    created = store.create(record)
    assert created["status"] == record["status"]
    on_node = store.list("secrets-store.csi.x-k8s.io/v1", "SecretProviderClassPodStatus",
                         "default", {"internal.secrets-store.csi.k8s.io/node-name": "node0"})
    assert [r["metadata"]["name"] for r in on_node] == ["mypod-default-azure-kvname"]
    store.delete("v1", "Pod", "default", "mypod")
    assert len(store.list("secrets-store.csi.x-k8s.io/v1", "SecretProviderClassPodStatus")) == 1
    store.delete("v1", "Pod", "default", "mypod", grace_period_seconds=0)
    assert store.list("secrets-store.csi.x-k8s.io/v1", "SecretProviderClassPodStatus") == []
