"""BB-17: wrong or missing tenant ID."""

from __future__ import annotations

import pytest
from support.local_cloud import AppCredential
from support.provider_world import SECRETS_USER, World, objects_yaml

OBJECTS = objects_yaml("objectName: MySecret\nobjectType: secret")
UNKNOWN_TENANT = "99999999-9999-9999-9999-999999999999"
FOREIGN_TENANT = "44444444-4444-4444-4444-444444444444"


@pytest.fixture(scope="module")
def app(world: World) -> AppCredential:
    app = world.cloud.seed.app("secrets-store-creds")
    world.assign(SECRETS_USER, app.object_id)
    world.secrets().set_secret("MySecret", "s3cr3t")
    world.cloud.store.put("tenant", FOREIGN_TENANT, {
        "tenantId": FOREIGN_TENANT, "displayName": "Foreign", "defaultDomain": "foreign.test"})
    return app


def sp_mount(world: World, app: AppCredential, **changes: str | None) -> str | None:
    parameters = world.parameters(useVMManagedIdentity=None, userAssignedIdentityID=None,
                                  **changes)
    outcome = world.mount(parameters, OBJECTS, secrets={"clientid": app.client_id,
                                                        "clientsecret": app.client_secret})
    return outcome.error


def test_a_unknown_tenant(world: World, app: AppCredential) -> None:
    world.gateway_calls.clear()
    error = sp_mount(world, app, tenantId=UNKNOWN_TENANT)
    assert error is not None
    assert error.startswith("failed to mount objects, error: failed to get objectType:secret, "
                            "objectName:MySecret, objectVersion:: ")
    assert f"AADSTS90002: Tenant '{UNKNOWN_TENANT}' not found" in error
    assert world.gateway_calls == [("secret", "MySecret", world.gateway_calls[0][2])]


def test_b_tenant_without_the_application(world: World, app: AppCredential) -> None:
    error = sp_mount(world, app, tenantId=FOREIGN_TENANT)
    assert error is not None and "objectName:MySecret" in error
    assert (f"AADSTS700016: Application with identifier '{app.client_id}' was not found in the "
            f"directory '{FOREIGN_TENANT}'") in error


@pytest.mark.parametrize("changes", [{"tenantId": None, "tenantid": "x"}, {"tenantId": None}])
def test_c_missing_tenant_fails_before_any_call(world: World, app: AppCredential,
                                                changes: dict[str, str | None]) -> None:
    world.gateway_calls.clear()
    outcome = world.mount(world.parameters(**changes), OBJECTS)
    expected = "failed to mount objects, error: tenantId is not provided"
    if "tenantid" in changes:
        expected += '\nwarning: unknown parameter "tenantid" (did you mean "tenantID"?)'
    assert outcome.error == expected
    assert world.gateway_calls == []


def test_d_managed_identity_ignores_the_tenant_value(world: World, app: AppCredential) -> None:
    outcome = world.mount(world.parameters(tenantId=FOREIGN_TENANT), OBJECTS)
    assert outcome.error is None and outcome.files == {"MySecret": (0o644, b"s3cr3t")}
