"""Federated identity credentials on user-assigned identities (ARM, api-version 2023-01-31)."""

from __future__ import annotations

import pytest
from identity_world import IDENTITY_API, WORKLOAD_AUDIENCE, Arm

ISSUER = "https://localhost/oidc/issuer/"
FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"


@pytest.fixture(scope="module")
def arm(shared_local_cloud):
    return Arm(shared_local_cloud)


def test_put_get_list_delete(arm):
    identity = arm.identity(arm.group("fic-rg"), "app-id")
    path = f"{identity['id']}/federatedIdentityCredentials/kubernetes-reader"
    body = {"properties": {"issuer": ISSUER, "subject": "system:serviceaccount:a:b",
                           "audiences": [WORKLOAD_AUDIENCE]}}
    created = arm.call("PUT", path, IDENTITY_API, body)
    assert created.status_code == 201
    assert created.json() == {"id": path, "name": "kubernetes-reader", "type": FIC_TYPE,
                              "properties": body["properties"]}
    assert arm.call("PUT", path, IDENTITY_API, body).status_code == 200
    assert arm.ok("GET", path, IDENTITY_API) == created.json()
    listed = arm.ok("GET", f"{identity['id']}/federatedIdentityCredentials", IDENTITY_API)
    assert listed == {"value": [created.json()]}
    assert arm.call("DELETE", path, IDENTITY_API).status_code == 200
    assert arm.call("DELETE", path, IDENTITY_API).status_code == 204
    missing = arm.call("GET", path, IDENTITY_API)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ResourceNotFound"


@pytest.mark.parametrize(("name", "properties", "message"), [
    ("ok-name", {"issuer": "http://insecure", "subject": "s", "audiences": ["a"]},
     "Issuer 'http://insecure' must be a valid URL using the https scheme."),
    ("ok-name", {"issuer": ISSUER, "subject": "s", "audiences": ["a", "b"]},
     "Audiences must contain exactly one value."),
    ("ok-name", {"issuer": ISSUER, "subject": "", "audiences": ["a"]},
     "Subject is required and cannot be empty."),
    ("-bad", {"issuer": ISSUER, "subject": "s", "audiences": ["a"]},
     "Federated identity credential name '-bad' is invalid. The name must be 3-120 characters "
     "long, start with a letter or number, and contain only letters, numbers, hyphens and "
     "underscores."),
])
def test_validation(arm, name, properties, message):
    identity = arm.identity(arm.group("fic-rg"), "validated")
    response = arm.call("PUT", f"{identity['id']}/federatedIdentityCredentials/{name}",
                        IDENTITY_API, {"properties": properties})
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "BadRequest", "message": message}}


def test_same_issuer_and_subject_twice_is_a_conflict(arm):
    identity = arm.identity(arm.group("fic-rg"), "twice")
    arm.federate(identity, "first", ISSUER, "system:serviceaccount:a:b")
    response = arm.call("PUT", f"{identity['id']}/federatedIdentityCredentials/second",
                        IDENTITY_API, {"properties": {"issuer": ISSUER,
                                                      "subject": "system:serviceaccount:a:b",
                                                      "audiences": [WORKLOAD_AUDIENCE]}})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "Conflict"


def test_deleting_the_identity_deletes_its_credentials(arm):
    group = arm.group("fic-rg")
    identity = arm.identity(group, "short-lived")
    arm.federate(identity, "cred", ISSUER, "system:serviceaccount:a:b")
    assert arm.call("DELETE", identity["id"], IDENTITY_API).status_code == 200
    recreated = arm.identity(group, "short-lived")
    listed = arm.ok("GET", f"{recreated['id']}/federatedIdentityCredentials", IDENTITY_API)
    assert listed == {"value": []}


def test_unknown_identity_is_404(arm):
    group = arm.group("fic-rg")
    response = arm.call("GET", f"{group}/providers/Microsoft.ManagedIdentity/"
                               "userAssignedIdentities/nope/federatedIdentityCredentials",
                        IDENTITY_API)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ResourceNotFound"
