"""BB-05: a misspelt parameter key is named, with the key that was probably meant."""

from __future__ import annotations

from support.provider_world import World, objects_yaml

WARNING = 'unknown parameter "userAssignedIdentityId" (did you mean "userAssignedIdentityID"?)'


def test_misspelt_identity_key_is_named_in_the_error_and_the_metadata(world: World) -> None:
    # The VM carries two user-assigned identities (BB-04 setup), so IMDS cannot pick one.
    world.secrets().set_secret("MySecret", "s3cr3t")
    parameters = world.parameters(userAssignedIdentityID=None,
                                  userAssignedIdentityId=world.kubelet_client_id)
    outcome = world.mount(parameters, objects_yaml("objectName: MySecret\nobjectType: secret"))
    assert outcome.error is not None
    assert outcome.error.startswith(
        "failed to mount objects, error: failed to get objectType:secret, objectName:MySecret, "
        "objectVersion:: ManagedIdentityCredential authentication failed: IMDS endpoint "
        f"{world.vm.imds_endpoint} answered: ")
    assert "Multiple user assigned identities exist" in outcome.error
    assert outcome.error.endswith(f"\nwarning: {WARNING}")
    assert outcome.warnings == [WARNING]


def test_deprecated_and_misplaced_keys_warn_on_success(world: World) -> None:
    parameters = world.parameters(resourceGroup="rg", subscriptionId="sub",
                                  enableSecretRotation="true")
    outcome = world.mount(parameters, objects_yaml("objectName: MySecret\nobjectType: secret"))
    assert outcome.error is None and outcome.files == {"MySecret": (0o644, b"s3cr3t")}
    assert outcome.warnings == [
        'deprecated parameter "resourceGroup" is ignored by the Azure provider',
        'deprecated parameter "subscriptionId" is ignored by the Azure provider',
        'parameter "enableSecretRotation" has no effect here: it is a setting of the Secrets '
        "Store CSI driver (--enable-secret-rotation; Helm "
        "secrets-store-csi-driver.enableSecretRotation), not of a SecretProviderClass"]


def test_tenant_id_wins_over_tenant_id_spelling(world: World) -> None:
    parameters = world.parameters(tenantID=world.cloud.tenant_id, tenantId="someone-else")
    outcome = world.mount(parameters, objects_yaml("objectName: MySecret\nobjectType: secret"))
    assert outcome.files == {"MySecret": (0o644, b"s3cr3t")}
    assert outcome.warnings == [f'parameters "tenantID" and "tenantId" differ: "tenantID" '
                                f"({world.cloud.tenant_id}) is used"]
