"""A managed cluster's OIDC issuer and TokenRequest endpoint, over HTTPS."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import jwt
import pytest
from identity_world import WORKLOAD_AUDIENCE, Arm, https, kubelet_token, request_token

from kvcsi.cloud.aks_oidc.cluster_urls import cluster_uid
from kvcsi.cloud.aks_oidc.token_requests import IN_CLUSTER_ISSUER
from kvcsi.cloud.identity.issuer_keys import IssuerKeysUnavailable, fetch_remote_jwks


@pytest.fixture(scope="module")
def world(shared_local_cloud):
    arm = Arm(shared_local_cloud)
    group = arm.group("oidc-rg")
    cluster = arm.cluster(group, "oidc-aks")
    return arm, cluster


def test_cluster_has_an_oidc_issuer_by_default(world):
    arm, cluster = world
    tenant = arm.cloud.tenant_id
    expected = f"{arm.cloud.authority}/oidc/{tenant}/{cluster_uid(cluster['id'])}/"
    assert cluster["properties"]["oidcIssuerProfile"] == {"enabled": True,
                                                         "issuerURL": expected}
    shown = arm.ok("GET", cluster["id"], "2025-01-01")
    assert shown["properties"]["oidcIssuerProfile"]["issuerURL"] == expected


def test_discovery_and_jwks(world):
    arm, cluster = world
    issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
    discovery = https(arm.cloud).get(issuer + ".well-known/openid-configuration")
    assert discovery.status_code == 200
    assert discovery.json() == {
        "issuer": issuer, "jwks_uri": issuer + "openid/v1/jwks",
        "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"]}
    keys = https(arm.cloud).get(issuer + "openid/v1/jwks").json()["keys"]
    assert [sorted(k) for k in keys] == [["alg", "e", "kid", "kty", "n", "use"]]
    assert (keys[0]["kty"], keys[0]["alg"], keys[0]["use"]) == ("RSA", "RS256", "sig")


def test_token_request_claims(world):
    arm, cluster = world
    issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
    before = int(time.time())
    response = request_token(arm, cluster, "apps", "reader", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "metadata": {"annotations": {"kvcsi.dev/serviceaccount-uid": "sa-uid-1",
                                     "kvcsi.dev/node-name": "aks-nodepool1-vmss000000"}},
        "spec": {"audiences": [WORKLOAD_AUDIENCE],
                 "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web",
                                    "uid": "pod-uid-1"}}})
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["apiVersion"]) == ("TokenRequest", "authentication.k8s.io/v1")
    assert body["spec"]["expirationSeconds"] == 3600
    jwks = https(arm.cloud).get(issuer + "openid/v1/jwks").json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    token = body["status"]["token"]
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=WORKLOAD_AUDIENCE,
                        issuer=issuer)
    assert jwt.get_unverified_header(token)["kid"] == jwks["keys"][0]["kid"]
    assert claims["sub"] == "system:serviceaccount:apps:reader"
    assert claims["aud"] == [WORKLOAD_AUDIENCE]
    assert claims["kubernetes.io"] == {
        "namespace": "apps", "node": {"name": "aks-nodepool1-vmss000000", "uid": ""},
        "pod": {"name": "web", "uid": "pod-uid-1"},
        "serviceaccount": {"name": "reader", "uid": "sa-uid-1"}}
    assert before <= claims["iat"] == claims["nbf"] <= claims["iat"] + 5
    assert claims["exp"] == claims["iat"] + 3600
    expiry = datetime.fromtimestamp(claims["exp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["status"]["expirationTimestamp"] == expiry


def test_token_request_refusals(world):
    arm, cluster = world
    unauthorized = request_token(arm, cluster, "apps", "reader", bearer="not-a-token")
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                   "status": "Failure", "message": "Unauthorized",
                                   "reason": "Unauthorized", "code": 401}

    too_short = request_token(arm, cluster, "apps", "reader", {
        "spec": {"audiences": ["x"], "expirationSeconds": 599}})
    assert too_short.status_code == 422
    assert too_short.json()["message"] == (
        'TokenRequest.authentication.k8s.io "reader" is invalid: spec.expirationSeconds: '
        "Invalid value: 599: may not specify a duration less than 10 minutes")
    assert too_short.json()["reason"] == "Invalid"


def test_another_clusters_kubelet_is_forbidden(world):
    arm, cluster = world
    other = arm.cluster(arm.group("oidc-rg"), "other-aks")
    foreign = kubelet_token(arm, other)
    response = request_token(arm, cluster, "apps", "reader", bearer=foreign)
    assert response.status_code == 403
    oid = jwt.decode(foreign, options={"verify_signature": False})["oid"]
    assert response.json()["message"] == (
        f'serviceaccounts "reader" is forbidden: User "{oid}" cannot create resource '
        '"serviceaccounts/token" in API group "" in the namespace "apps"')


def test_disabled_issuer_is_not_published_and_signs_in_cluster(world):
    arm, _ = world
    cluster = arm.cluster(arm.group("oidc-rg"), "no-oidc", oidc=False)
    assert cluster["properties"]["oidcIssuerProfile"] == {"enabled": False}
    tenant = arm.cloud.tenant_id
    base = f"{arm.cloud.authority}/oidc/{tenant}/{cluster_uid(cluster['id'])}/"
    missing = https(arm.cloud).get(base + ".well-known/openid-configuration")
    assert (missing.status_code, missing.text) == (404, "404 page not found\n")
    response = request_token(arm, cluster, "default", "default")
    claims = jwt.decode(response.json()["status"]["token"], options={"verify_signature": False})
    assert claims["iss"] == IN_CLUSTER_ISSUER

    enabled = arm.cluster(arm.group("oidc-rg"), "no-oidc", oidc=True)
    assert enabled["properties"]["oidcIssuerProfile"]["issuerURL"] == base


def test_issuer_keys_fetched_over_https_only_from_loopback_hosts(world):
    arm, cluster = world
    issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
    fetched = fetch_remote_jwks(issuer, arm.cloud.ca_bundle)
    served = https(arm.cloud).get(issuer + "openid/v1/jwks").json()
    assert fetched == served
    with pytest.raises(IssuerKeysUnavailable, match="^issuer host is not local: example.com$"):
        fetch_remote_jwks("https://example.com/issuer", arm.cloud.ca_bundle)
