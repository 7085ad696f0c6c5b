"""kubectl apply -f: document loading, per-document results, errors after, exit status."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_samples import DRIVER_URL, PROVIDER_URL, SEED_POD_AND_SPC

from kvcsi.cluster import LocalClusterStore
from kvcsi.cluster.bundled import DRIVER_MANIFEST, PROVIDER_MANIFEST, known_manifest
from kvcsi.cluster.manifests import (
    ManifestError,
    apply_documents,
    apply_sources,
    load_documents,
    load_file,
)

SEED_SPC_ERROR = (
    'error: resource mapping not found for name: "azure-kvname" namespace: "" from '
    '"pod.yaml": no matches for kind "SecretProviderClass" in version '
    '"secrets-store.csi.k8s.io/v1alpha1"\n'
    "ensure CRDs are installed first\n"
    "hint (kvcsi): secrets-store.csi.k8s.io is the CSI driver name, not an API group; the "
    "SecretProviderClass API group is secrets-store.csi.x-k8s.io: use apiVersion: "
    "secrets-store.csi.x-k8s.io/v1\n"
)
DEPRECATION = (
    "Warning: secrets-store.csi.x-k8s.io/v1alpha1 is deprecated. Use "
    "secrets-store.csi.x-k8s.io/v1 instead.\n"
)


def test_load_skips_empty_documents_and_flattens_lists() -> None:
    text = (
        "---\n---\napiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
        "---\n# only a comment\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {when: 2024-01-01}\n"
    )
    documents = load_documents(text, "x.yaml")
    assert [d.obj["metadata"]["name"] for d in documents] == ["a", "b", "c"]
    assert documents[2].obj["data"] == {"when": "2024-01-01"}
    assert {d.source for d in documents} == {"x.yaml"}


def test_load_errors() -> None:
    with pytest.raises(ManifestError) as parse:
        load_documents("a: [1\n", "bad.yaml")
    assert str(parse.value).startswith(
        "error parsing bad.yaml: error converting YAML to JSON: yaml: "
    )
    with pytest.raises(ManifestError) as missing:
        load_file("nope.yaml")
    assert missing.value.kubectl_text() == 'error: the path "nope.yaml" does not exist'
    with pytest.raises(ManifestError) as url:
        load_file("https://example.com/x.yaml")
    assert str(url.value).startswith('unable to read URL "https://example.com/x.yaml": ')


def test_known_manifest_urls() -> None:
    assert known_manifest(DRIVER_URL) == DRIVER_MANIFEST
    assert known_manifest(PROVIDER_URL) == PROVIDER_MANIFEST
    assert known_manifest("https://example.com/deploy/secrets-store-csi-driver.yaml") is None


def test_seed_yaml_applies_the_pod_and_refuses_the_spc(store: LocalClusterStore) -> None:
    result = apply_documents(store, load_documents(SEED_POD_AND_SPC, "pod.yaml"))
    assert result.stdout_text() == "pod/mypod created\n"
    assert result.stderr_text() == SEED_SPC_ERROR
    assert result.exit_code == 1
    volume = store.get("v1", "Pod", "default", "mypod")["spec"]["volumes"][0]
    assert volume["csi"]["volumeAttributes"] == {"secretProviderClass": "azure-kvname"}


def test_install_manifests_then_seed_with_fixed_group(store: LocalClusterStore) -> None:
    driver = apply_sources(store, [DRIVER_URL])
    assert driver.lines == [
        "customresourcedefinition.apiextensions.k8s.io/"
        "secretproviderclasses.secrets-store.csi.x-k8s.io created",
        "customresourcedefinition.apiextensions.k8s.io/"
        "secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io created",
        "serviceaccount/secrets-store-csi-driver created",
        "clusterrole.rbac.authorization.k8s.io/secretproviderclasses-role created",
        "clusterrolebinding.rbac.authorization.k8s.io/secretproviderclasses-rolebinding created",
        "clusterrole.rbac.authorization.k8s.io/secretprovidersyncing-role created",
        "clusterrolebinding.rbac.authorization.k8s.io/secretprovidersyncing-rolebinding created",
        "daemonset.apps/csi-secrets-store created",
        "csidriver.storage.k8s.io/secrets-store.csi.k8s.io created",
    ]
    assert driver.stderr_text() == ""
    provider = apply_sources(store, [PROVIDER_URL])
    assert provider.lines == [
        "serviceaccount/csi-secrets-store-provider-azure created",
        "daemonset.apps/csi-secrets-store-provider-azure created",
    ]
    assert apply_sources(store, [DRIVER_URL]).lines[-1] == (
        "csidriver.storage.k8s.io/secrets-store.csi.k8s.io unchanged"
    )
    fixed = SEED_POD_AND_SPC.replace(
        "secrets-store.csi.k8s.io/v1alpha1", "secrets-store.csi.x-k8s.io/v1alpha1"
    )
    result = apply_documents(store, load_documents(fixed, "pod.yaml"))
    assert result.lines == [
        "pod/mypod created",
        "secretproviderclass.secrets-store.csi.x-k8s.io/azure-kvname created",
    ]
    assert result.stderr_text() == DEPRECATION
    assert result.exit_code == 0
    stored = store.get("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass", "default",
                       "azure-kvname")
    assert stored["spec"]["parameters"]["useVMManagedIdentity"] == "true"
    assert stored["spec"]["parameters"]["objects"].startswith("array:\n  - |\n")


def test_install_manifest_shapes(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL, PROVIDER_URL])
    csidriver = store.get("storage.k8s.io/v1", "CSIDriver", None, "secrets-store.csi.k8s.io")
    assert csidriver["spec"] == {"podInfoOnMount": True, "attachRequired": False,
                                 "volumeLifecycleModes": ["Ephemeral"],
                                 "requiresRepublish": True,
                                 "tokenRequests": [{"audience": "api://AzureADTokenExchange"}]}
    parts = store.list("apps/v1", "DaemonSet", "kube-system",
                       {"app.kubernetes.io/part-of": "kvcsi"})
    components = {d["metadata"]["name"]: d["metadata"]["labels"]["kvcsi.dev/component"]
                  for d in parts}
    assert components == {"csi-secrets-store": "driver",
                          "csi-secrets-store-provider-azure": "provider"}
    driver = next(d for d in parts if d["metadata"]["name"] == "csi-secrets-store")
    containers = {c["name"]: c for c in driver["spec"]["template"]["spec"]["containers"]}
    assert containers["secrets-store"]["command"] == ["secrets-store-csi-driver"]
    assert "--nodeid=$(KUBE_NODE_NAME)" in containers["secrets-store"]["args"]
    assert "--provider-volume=/var/run/secrets-store-csi-providers" in (
        containers["secrets-store"]["args"]
    )
    provider = next(d for d in parts if d["metadata"]["name"] != "csi-secrets-store")
    (container,) = provider["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["secrets-store-csi-driver-provider-azure"]
    assert container["args"][0] == "--endpoint=unix:///provider/azure.sock"


def test_errors_are_reported_after_the_successes(store: LocalClusterStore) -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: missing}\n"
        "spec: {containers: [{name: c, image: nginx}]}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: team}\n"
    )
    result = apply_documents(store, load_documents(text, "all.yaml"))
    assert result.lines == ["configmap/ok created"]
    assert result.stderr_text() == (
        'Error from server (NotFound): error when creating "all.yaml": namespaces "missing" '
        "not found\n"
        'resource mapping not found for name: "w" namespace: "team" from "all.yaml": no '
        'matches for kind "Widget" in version "example.com/v1"\n'
        "ensure CRDs are installed first\n"
    )
    assert result.exit_code == 1


def test_namespace_flag(store: LocalClusterStore) -> None:
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
    result = apply_documents(store, load_documents(text, "cm.yaml"), namespace="team")
    assert result.lines == ["configmap/cfg created"]
    assert store.get("v1", "ConfigMap", "team", "cfg")["metadata"]["namespace"] == "team"
    pinned = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: default}\n"
    refused = apply_documents(store, load_documents(pinned, "cm.yaml"), namespace="team")
    assert refused.stderr_text() == (
        'error: the namespace from the provided object "default" does not match the namespace '
        "\"team\". You must pass '--namespace=default' to perform this operation.\n"
    )


def test_missing_kind_and_invalid_objects(store: LocalClusterStore) -> None:
    result = apply_documents(store, load_documents("metadata: {name: x}\n", "x.yaml"))
    assert result.stderr_text() == (
        'error: error validating "x.yaml": error validating data: [apiVersion not set, kind '
        "not set]; if you choose to ignore these errors, turn validation off with "
        "--validate=false\n"
    )
    apply_sources(store, [DRIVER_URL])
    bad = (
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\n"
        "metadata: {name: azure-kvname}\nspec: {provider: azure, parameters: "
        "{usePodIdentity: false}}\n"
    )
    invalid = apply_documents(store, load_documents(bad, "spc.yaml"))
    assert invalid.stderr_text() == (
        'The SecretProviderClass "azure-kvname" is invalid: spec.parameters.usePodIdentity: '
        'Invalid value: "boolean": spec.parameters.usePodIdentity in body must be of type '
        'string: "boolean"\n'
    )


def test_apply_directory(store: LocalClusterStore, tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "a.json").write_text(
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}'
    )
    (tmp_path / "notes.txt").write_text("ignored")
    result = apply_sources(store, [str(tmp_path)])
    assert result.lines == ["configmap/a created", "configmap/b created"]


def test_unknown_fields_in_custom_resources_are_refused(store: LocalClusterStore) -> None:
    apply_sources(store, [DRIVER_URL])
    misplaced = (
        "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\n"
        "metadata: {name: azure-kvname}\nspec: {provider: azure, keyvaultName: MyKeyVault}\n"
    )
    result = apply_documents(store, load_documents(misplaced, "spc.yaml"))
    assert result.stderr_text() == (
        'Error from server (BadRequest): error when creating "spc.yaml": SecretProviderClass '
        'in version "v1" cannot be handled as a SecretProviderClass: strict decoding error: '
        'unknown field "spec.keyvaultName"\n'
    )
