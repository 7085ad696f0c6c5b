"""The node runtime's service-account tokens: kubelet's TokenRequest against the local cloud."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from identity_world import WORKLOAD_AUDIENCE, Arm

from kvcsi.cluster import connect
from kvcsi.node.service_account_tokens import (
    TOKENS_KEY,
    ServiceAccountTokenError,
    ServiceAccountTokens,
)
from kvcsi.node.volumes import VolumeSetupError, build_publish_request

CSI_DRIVER = {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
              "metadata": {"name": "secrets-store.csi.k8s.io"},
              "spec": {"podInfoOnMount": True, "volumeLifecycleModes": ["Ephemeral"],
                       "tokenRequests": [{"audience": WORKLOAD_AUDIENCE},
                                         {"audience": "other", "expirationSeconds": 7200}]}}


@pytest.fixture(scope="module")
def node(shared_local_cloud, tmp_path_factory):
    cloud = shared_local_cloud
    arm = Arm(cloud)
    cluster = arm.cluster(arm.group("node-rg"), "node-aks")
    root = tmp_path_factory.mktemp("cluster")
    (root / "cluster.json").write_text(json.dumps({
        "name": "node-aks", "resourceId": cluster["id"],
        "nodeResourceGroup": cluster["properties"]["nodeResourceGroup"]}))
    store = connect(str(root / "store.db"), create=True)
    store.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})
    account = store.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                           "metadata": {"name": "reader", "namespace": "apps"}})[0]
    tokens = ServiceAccountTokens(cloud.home, root / "cluster.json", "aks-node-0",
                                  arm.node_imds(cluster))
    return {"cloud": cloud, "cluster": cluster, "store": store, "tokens": tokens,
            "account": account}


def _pod(account: str = "reader", uid: str = "pod-uid-1") -> dict:
    return {"metadata": {"name": "web", "namespace": "apps", "uid": uid},
            "spec": {"serviceAccountName": account}}


def test_tokens_for_every_audience_in_kubelets_shape(node):
    attributes = node["tokens"].attributes(node["store"], _pod(), CSI_DRIVER)
    assert list(attributes) == [TOKENS_KEY]
    value = attributes[TOKENS_KEY]
    assert value.startswith('{"api://AzureADTokenExchange":{"token":"') and " " not in value
    tokens = json.loads(value)
    assert sorted(tokens) == ["api://AzureADTokenExchange", "other"]
    assert sorted(tokens["other"]) == ["expirationTimestamp", "token"]
    issuer = node["cluster"]["properties"]["oidcIssuerProfile"]["issuerURL"]
    claims = jwt.decode(tokens[WORKLOAD_AUDIENCE]["token"], options={"verify_signature": False})
    assert claims["iss"] == issuer
    assert claims["aud"] == [WORKLOAD_AUDIENCE]
    assert claims["sub"] == "system:serviceaccount:apps:reader"
    assert claims["kubernetes.io"]["pod"] == {"name": "web", "uid": "pod-uid-1"}
    assert claims["kubernetes.io"]["serviceaccount"] == {
        "name": "reader", "uid": node["account"]["metadata"]["uid"]}
    assert claims["exp"] - claims["iat"] == 3600
    other = jwt.decode(tokens["other"]["token"], options={"verify_signature": False})
    assert other["exp"] - other["iat"] == 7200
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"])) == \
        tokens[WORKLOAD_AUDIENCE]["expirationTimestamp"]


def test_tokens_are_cached_per_pod(node):
    first = node["tokens"].attributes(node["store"], _pod(uid="cache-1"), CSI_DRIVER)
    again = node["tokens"].attributes(node["store"], _pod(uid="cache-1"), CSI_DRIVER)
    other_pod = node["tokens"].attributes(node["store"], _pod(uid="cache-2"), CSI_DRIVER)
    assert first == again
    assert first != other_pod


def test_no_token_requests_no_attribute(node):
    driver = {"spec": {"podInfoOnMount": True}}
    assert node["tokens"].attributes(node["store"], _pod(), driver) == {}


def test_missing_service_account_fails_the_mount_as_kubelet(node, tmp_path):
    with pytest.raises(ServiceAccountTokenError, match='^serviceaccounts "ghost" not found$'):
        node["tokens"].attributes(node["store"], _pod("ghost"), CSI_DRIVER)
    volume = {"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io",
                                         "volumeAttributes": {"secretProviderClass": "spc"}}}
    with pytest.raises(VolumeSetupError) as raised:
        build_publish_request(node["store"], _pod("ghost"), volume, tmp_path, CSI_DRIVER,
                              node["tokens"])
    assert str(raised.value) == (
        "kubernetes.io/csi: mounter.SetUpAt failed to get service accoount token attributes: "
        'serviceaccounts "ghost" not found')


def test_publish_request_carries_pod_info_and_tokens(node, tmp_path):
    volume = {"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io",
                                         "volumeAttributes": {"secretProviderClass": "spc"}}}
    request = build_publish_request(node["store"], _pod(), volume, tmp_path, CSI_DRIVER,
                                    node["tokens"])
    assert sorted(request.volume_context) == [
        "csi.storage.k8s.io/ephemeral", "csi.storage.k8s.io/pod.name",
        "csi.storage.k8s.io/pod.namespace", "csi.storage.k8s.io/pod.uid",
        "csi.storage.k8s.io/serviceAccount.name", TOKENS_KEY, "secretProviderClass"]
