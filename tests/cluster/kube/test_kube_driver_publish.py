"""The driver's publish path, unchanged, against the Kubernetes API adapter."""

from __future__ import annotations

import os

import pytest
from fake_apiserver import SPC_GROUP, status

from kvcsi.driver.mounter import DirectoryMounter
from tests.driver.harness import NODE_ID, POD_UID, make_driver

SPC_PATH = f"/apis/{SPC_GROUP}/v1/namespaces/default/secretproviderclasses/azure-kv"
SPCPS_COLLECTION = f"/apis/{SPC_GROUP}/v1/namespaces/default/secretproviderclasspodstatuses"
SPCPS_NAME = "busybox-secrets-store-inline-default-azure-kv"
NODE_LABEL = "internal.secrets-store.csi.k8s.io/node-name"


@pytest.fixture
def kube_driver(kube, api):
    api.put_object({
        "apiVersion": f"{SPC_GROUP}/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "azure-kv", "namespace": "default"},
        "spec": {"provider": "fake", "parameters": {"keyvaultName": "kv1"}},
    })
    yield from make_driver(DirectoryMounter(), store=kube)


def test_first_publish_reads_the_spc_and_creates_the_pod_status(kube_driver, api):
    kube_driver.provider.versions = [("secret/b", "2"), ("secret/a", "1")]
    kube_driver.provider.files = [("a", 0o644, b"A")]
    kube_driver.node.NodePublishVolume(kube_driver.publish_request())

    assert api.calls() == [("GET", SPC_PATH), ("POST", SPCPS_COLLECTION)]
    body = api.requests[-1].body
    assert body == {
        "apiVersion": f"{SPC_GROUP}/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": SPCPS_NAME,
            "namespace": "default",
            "labels": {NODE_LABEL: NODE_ID},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod",
                                 "name": "busybox-secrets-store-inline", "uid": POD_UID}],
        },
        "status": {
            "podName": "busybox-secrets-store-inline",
            "secretProviderClassName": "azure-kv",
            "mounted": True,
            "targetPath": kube_driver.target(),
            "objects": [{"id": "secret/a", "version": "1"}, {"id": "secret/b", "version": "2"}],
        },
    }
    with open(os.path.join(kube_driver.target(), "a"), "rb") as mounted:
        assert mounted.read() == b"A"


def test_existing_pod_status_is_read_and_replaced_with_its_resource_version(kube_driver, api):
    old = api.put_object({
        "apiVersion": f"{SPC_GROUP}/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {"name": SPCPS_NAME, "namespace": "default",
                     "labels": {NODE_LABEL: "old-node", "team": "a"}},
        "status": {"podName": "busybox-secrets-store-inline", "mounted": True},
    })
    conflict = status(409, "Conflict", "Operation cannot be fulfilled on "
                      f'secretproviderclasspodstatuses.{SPC_GROUP} "{SPCPS_NAME}": the object '
                      "has been modified; please apply your changes to the latest version and "
                      "try again", {"name": SPCPS_NAME})
    api.fail_next("PUT", f"/{SPCPS_NAME}", 409, conflict)
    kube_driver.node.NodePublishVolume(kube_driver.publish_request())

    assert api.calls() == [
        ("GET", SPC_PATH),
        ("POST", SPCPS_COLLECTION),  # 409 AlreadyExists
        ("GET", f"{SPCPS_COLLECTION}/{SPCPS_NAME}"),
        ("PUT", f"{SPCPS_COLLECTION}/{SPCPS_NAME}"),  # 409 Conflict (injected)
        ("GET", f"{SPCPS_COLLECTION}/{SPCPS_NAME}"),
        ("PUT", f"{SPCPS_COLLECTION}/{SPCPS_NAME}"),
    ]
    put = api.requests[-1].body
    assert put["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"]
    assert put["metadata"]["labels"] == {NODE_LABEL: NODE_ID, "team": "a"}
    assert put["metadata"]["ownerReferences"][0]["uid"] == POD_UID
    stored = api.stored(SPC_GROUP, "secretproviderclasspodstatuses", "default", SPCPS_NAME)
    assert stored["status"]["objects"] == [{"id": "secret/foo", "version": "v1"}]
    assert stored["metadata"]["resourceVersion"] != old["metadata"]["resourceVersion"]
