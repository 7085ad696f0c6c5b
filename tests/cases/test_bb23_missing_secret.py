"""BB-23: a soft-deleted secret fails the whole mount; after recovery the retry mounts both."""

from __future__ import annotations

from support.provider_world import World, objects_yaml

OBJECTS = objects_yaml("objectName: MySecret\nobjectType: secret",
                       "objectName: MyOther\nobjectType: secret")


def test_deleted_then_recovered(world: World) -> None:
    secrets = world.secrets()
    secrets.set_secret("MySecret", "s3cr3t")
    other = secrets.set_secret("MyOther", "other").properties.version
    secrets.begin_delete_secret("MySecret").result()

    outcome = world.mount(world.parameters(), OBJECTS)
    error = outcome.error or ""
    assert outcome.files == {}
    assert error.startswith(
        "failed to mount objects, error: failed to get objectType:secret, objectName:MySecret, "
        f"objectVersion:: GET https://MyKeyVault.{world.cloud.endpoints['keyvault_dns_suffix']}"
        "/secrets/MySecret/\n")
    assert "RESPONSE 404: 404 Not Found" in error and "ERROR CODE: SecretNotFound" in error
    assert "deletedsecrets" not in error.lower()

    recovered = secrets.begin_recover_deleted_secret("MySecret").result()
    retried = world.mount(world.parameters(), OBJECTS)
    assert retried.files == {"MySecret": (0o644, b"s3cr3t"), "MyOther": (0o644, b"other")}
    assert retried.versions == [("secret/MySecret", recovered.version),
                                ("secret/MyOther", other)]
