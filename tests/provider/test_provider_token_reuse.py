"""Tokens and clients are reused across mounts: one IMDS token request per identity."""

from __future__ import annotations

from support.provider_world import World, objects_yaml, world  # noqa: F401

OBJECTS = objects_yaml(*(f"objectName: reuse-{i}\nobjectType: secret" for i in range(3)))


def test_many_mounts_one_token_request_per_identity(world: World) -> None:  # noqa: F811
    secrets = world.secrets()
    for i in range(3):
        secrets.set_secret(f"reuse-{i}", f"value {i}")
    before = world.credentials.token_requests()
    for _ in range(25):
        outcome = world.mount(world.parameters(), OBJECTS)
        assert outcome.files == {f"reuse-{i}": (0o644, f"value {i}".encode()) for i in range(3)}
    assert world.credentials.token_requests() - before == 1
    # another identity of the same node is another token
    world.assign("4633458b-17de-408a-b874-0445c86b69e6", world.principal_of(1))
    for _ in range(5):
        outcome = world.mount(world.parameters(
            userAssignedIdentityID=world.monitoring_client_id), OBJECTS)
        assert outcome.error is None
    assert world.credentials.token_requests() - before == 2
