"""Per-object fields against the local Key Vault: versions, history, modes, keys."""

from __future__ import annotations

from azure.keyvault.keys import KeyCurveName
from cryptography.hazmat.primitives import serialization
from support.provider_world import World, objects_yaml, world  # noqa: F401


def test_object_version_pins_a_version(world: World) -> None:  # noqa: F811
    secrets = world.secrets()
    first = secrets.set_secret("Pinned", "one").properties.version
    secrets.set_secret("Pinned", "two")
    outcome = world.mount(world.parameters(), objects_yaml(
        f"objectName: Pinned\nobjectType: secret\nobjectVersion: {first}",
        "objectName: Pinned\nobjectType: secret\nobjectAlias: latest"))
    assert outcome.files == {"Pinned": (0o644, b"one"), "latest": (0o644, b"two")}
    assert outcome.versions[0] == ("secret/Pinned", first)


def test_version_history_newest_first_disabled_skipped_exactly_n(world: World) -> None:  # noqa: F811
    secrets = world.secrets()
    versions = []
    for value in ("v1", "v2", "v3", "v4", "v5"):
        # created times share a second here: ties go by listing order (oldest listed first)
        versions.append(secrets.set_secret("History", value).properties.version)
    secrets.update_secret_properties("History", versions[3], enabled=False)  # v4
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: History\nobjectType: secret\nobjectAlias: hist\nobjectVersionHistory: 3"))
    assert outcome.error is None
    assert outcome.files == {"hist/0": (0o644, b"v5"), "hist/1": (0o644, b"v3"),
                             "hist/2": (0o644, b"v2")}
    assert outcome.versions == [("secret/History/0", versions[4]),
                                ("secret/History/1", versions[2]),
                                ("secret/History/2", versions[1])]


def test_file_permission_and_default_permission(world: World) -> None:  # noqa: F811
    world.secrets().set_secret("Modes", "m")
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: Modes\nobjectType: secret\nfilePermission: 0400",
        "objectName: Modes\nobjectType: secret\nobjectAlias: exec\nfilePermission: 0755",
        "objectName: Modes\nobjectType: secret\nobjectAlias: default"), permission="384")
    assert outcome.files == {"Modes": (0o400, b"m"), "exec": (0o755, b"m"),
                             "default": (0o600, b"m")}


def test_rsa_and_ec_keys_are_written_as_public_pem(world: World) -> None:  # noqa: F811
    keys = world.keys()
    rsa_key = keys.create_rsa_key("RsaKey", size=2048)
    ec_key = keys.create_ec_key("EcKey", curve=KeyCurveName.p_384)
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: RsaKey\nobjectType: key", "objectName: EcKey\nobjectType: KEY"))
    assert outcome.error is None
    rsa_public = serialization.load_pem_public_key(outcome.files["RsaKey"][1])
    assert rsa_public.public_numbers().n == int.from_bytes(rsa_key.key.n, "big")  # type: ignore[union-attr]
    ec_public = serialization.load_pem_public_key(outcome.files["EcKey"][1])
    assert ec_public.public_numbers().x == int.from_bytes(ec_key.key.x, "big")  # type: ignore[union-attr]
    assert outcome.files["EcKey"][1].startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert outcome.versions == [("key/RsaKey", rsa_key.properties.version),
                                ("key/EcKey", ec_key.properties.version)]
