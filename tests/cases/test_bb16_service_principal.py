"""BB-16: service principal from the nodePublishSecretRef Secret (``clientid``/``clientsecret``)."""

from __future__ import annotations

import pytest
from support.local_cloud import AppCredential
from support.provider_world import SECRETS_USER, World, objects_yaml

from kvcsi.provider.auth import NO_IDENTITY_HINT

OBJECTS = objects_yaml("objectName: MySecret\nobjectType: secret")
PREFIX = "failed to mount objects, error: failed to build auth config for mode None: "


@pytest.fixture(scope="module")
def app(world: World) -> AppCredential:
    app = world.cloud.seed.app("secrets-store-creds")
    world.assign(SECRETS_USER, app.object_id)
    world.secrets().set_secret("MySecret", "s3cr3t")
    return app


def sp_parameters(world: World) -> dict[str, str]:
    return world.parameters(useVMManagedIdentity=None, userAssignedIdentityID=None)


@pytest.mark.parametrize(("id_key", "secret_key"), [
    ("clientid", "clientsecret"), ("ClientID", "ClientSecret"), ("CLIENTID", "clientSecret")])
def test_keys_match_case_insensitively(world: World, app: AppCredential, id_key: str,
                                       secret_key: str) -> None:
    outcome = world.mount(sp_parameters(world), OBJECTS,
                          secrets={id_key: app.client_id, secret_key: app.client_secret})
    assert outcome.error is None
    assert outcome.files == {"MySecret": (0o644, b"s3cr3t")}


def test_b_dashed_keys_are_not_found(world: World, app: AppCredential) -> None:
    world.gateway_calls.clear()
    outcome = world.mount(sp_parameters(world), OBJECTS, secrets={
        "client-id": app.client_id, "client-secret": app.client_secret})
    assert outcome.error == PREFIX + "could not find clientid in secrets"
    assert world.gateway_calls == []
    outcome = world.mount(sp_parameters(world), OBJECTS, secrets={"clientid": app.client_id})
    assert outcome.error == PREFIX + "could not find clientsecret in secrets"


def test_c_no_ref_lists_the_ways_to_supply_an_identity(world: World) -> None:
    outcome = world.mount(sp_parameters(world), OBJECTS)
    assert outcome.error == (PREFIX + "failed to get credentials, nodePublishSecretRef secret "
                             "is not set" + NO_IDENTITY_HINT)


def test_wrong_client_secret_names_the_entra_code(world: World, app: AppCredential) -> None:
    outcome = world.mount(sp_parameters(world), OBJECTS,
                          secrets={"clientid": app.client_id, "clientsecret": "wrong"})
    assert outcome.error is not None and "AADSTS7000215" in outcome.error
    assert "wrong" not in outcome.error.replace("wrong tenant", "")
    assert app.client_secret not in outcome.error


def test_pod_identity_is_refused_clearly(world: World) -> None:
    outcome = world.mount(world.parameters(useVMManagedIdentity=None, usePodIdentity="true"),
                          OBJECTS)
    assert outcome.error == (
        "failed to mount objects, error: failed to build auth config for mode PodIdentity: "
        "aad-pod-identity (usePodIdentity) is not supported by kvcsi; use useVMManagedIdentity, "
        "workload identity (clientID) or a service principal")


def test_identity_modes_are_exclusive(world: World) -> None:
    outcome = world.mount(world.parameters(usePodIdentity="true"), OBJECTS)
    assert outcome.error == (
        "failed to mount objects, error: only one identity mode can be enabled at a time: "
        "usePodIdentity, useVMManagedIdentity, or useAzureTokenProxy")
