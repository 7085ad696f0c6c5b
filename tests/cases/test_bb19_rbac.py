"""BB-19: Key Vault data-plane RBAC: *Key Vault Secrets User* cannot read a certificate."""

from __future__ import annotations

from azure.keyvault.certificates import CertificatePolicy
from support.provider_world import CERTIFICATE_USER, SECRETS_USER, World, objects_yaml

OBJECTS = objects_yaml("objectName: MySecret\nobjectType: secret",
                       "objectName: MyCert\nobjectType: cert\nobjectAlias: cert.pem",
                       "objectName: MyCert\nobjectType: secret\nobjectAlias: bundle.pem")


def test_certificate_read_needs_its_role_and_a_retry_succeeds_after_assignment(
        world: World) -> None:
    world.secrets().set_secret("MySecret", "s3cr3t")
    world.certificates().begin_create_certificate("MyCert", CertificatePolicy.get_default()
                                                  ).result()
    reader = world.principal_of(1)  # the second identity: only Key Vault Secrets User
    world.assign(SECRETS_USER, reader)
    parameters = world.parameters(userAssignedIdentityID=world.monitoring_client_id)

    outcome = world.mount(parameters, OBJECTS)
    error = outcome.error or ""
    assert outcome.files == {}
    assert error.startswith(
        "failed to mount objects, error: failed to get objectType:cert, objectName:MyCert, "
        f"objectVersion:: GET https://MyKeyVault.{world.cloud.endpoints['keyvault_dns_suffix']}"
        "/certificates/MyCert/")
    assert "RESPONSE 403: 403 Forbidden" in error and "ForbiddenByRbac" in error
    assert "Microsoft.KeyVault/vaults/certificates/read" in error

    world.assign(CERTIFICATE_USER, reader)
    retried = world.mount(parameters, OBJECTS)
    assert retried.error is None
    assert sorted(retried.files) == ["MySecret", "bundle.pem", "cert.pem"]
