"""Workload identity end to end: a service account token exchanged as a client assertion.

The local cloud plays Entra with federated identity credentials and an AKS cluster whose OIDC
issuer signs the service account tokens (the same helpers the cloud's own tests use). The
provider receives the token in ``csi.storage.k8s.io/serviceAccount.tokens``, as the driver
passes it, and must exchange it with ``ClientAssertionCredential``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from support.provider_world import SECRETS_USER, World, objects_yaml, world  # noqa: F401

AUDIENCE = "api://AzureADTokenExchange"
TOKENS = "csi.storage.k8s.io/serviceAccount.tokens"
OBJECTS = objects_yaml("objectName: MySecret\nobjectType: secret")


def identity_world() -> ModuleType:
    path = Path(__file__).parents[1] / "cloud" / "identity" / "identity_world.py"
    spec = importlib.util.spec_from_file_location("kvcsi_test_identity_world", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def federation(world: World) -> dict[str, Any]:  # noqa: F811
    helpers = identity_world()
    arm = helpers.Arm(world.cloud)
    group = arm.group("wi-rg")
    cluster = arm.cluster(group, "wi-aks", oidc=True)
    issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
    identity = arm.identity(group, "workload")
    arm.federate(identity, "myns-app", issuer, "system:serviceaccount:myns:app")
    world.assign(SECRETS_USER, identity["properties"]["principalId"])
    world.secrets().set_secret("MySecret", "via-workload-identity")

    def token(account: str) -> str:
        return helpers.service_account_token(arm, cluster, "myns", account)

    return {"client_id": identity["properties"]["clientId"], "token": token}


def wi_parameters(world: World, client_id: str, token: str | None) -> dict[str, str]:  # noqa: F811
    parameters = world.parameters(useVMManagedIdentity=None, userAssignedIdentityID=None,
                                  clientID=client_id)
    if token is not None:
        parameters[TOKENS] = json.dumps({AUDIENCE: {
            "token": token, "expirationTimestamp": "2099-01-01T00:00:00Z"}})
    return parameters


def test_mounts_with_the_service_account_token_and_reuses_the_entra_token(
        world: World, federation: dict[str, Any]) -> None:  # noqa: F811
    before = world.credentials.token_requests()
    for _ in range(3):  # a new service account token on every mount, as kubelet mints them
        outcome = world.mount(wi_parameters(world, federation["client_id"],
                                            federation["token"]("app")), OBJECTS)
        assert outcome.error is None
        assert outcome.files == {"MySecret": (0o644, b"via-workload-identity")}
    assert world.credentials.token_requests() - before == 1


def test_unfederated_service_account_is_refused_with_aadsts70021(
        world: World, federation: dict[str, Any]) -> None:  # noqa: F811
    outcome = world.mount(wi_parameters(world, federation["client_id"],
                                        federation["token"]("intruder")), OBJECTS)
    error = outcome.error or ""
    assert error.startswith("failed to mount objects, error: failed to get objectType:secret, "
                            "objectName:MySecret, objectVersion:: ")
    assert "AADSTS70021" in error
    assert "Assertion Subject: 'system:serviceaccount:myns:intruder'" in error
    assert outcome.files == {}


def test_missing_tokens_name_the_csidriver_setting(world: World,  # noqa: F811
                                                   federation: dict[str, Any]) -> None:
    outcome = world.mount(wi_parameters(world, federation["client_id"], None), OBJECTS)
    assert outcome.error == (
        "failed to mount objects, error: failed to build auth config for mode None: failed to "
        "parse workload identity tokens, error: service account tokens not found")
