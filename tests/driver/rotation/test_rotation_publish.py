"""Rotation through kubelet's republish: gate, atomic update, pod status, events, backoff."""

from __future__ import annotations

import os

import grpc

from kvcsi._proto import csi_pb2
from kvcsi.driver.publisher import PublishOutcome, PublishRequest
from kvcsi.driver.rotation_refresh import REFRESH_ANNOTATION

from .world import BACKOFF, INTERVAL, SPC_GROUP, World, make_world, spc


def _status_objects(world: World, pod_name: str) -> list[dict]:
    record = world.store.get(f"{SPC_GROUP}/v1", "SecretProviderClassPodStatus", "default",
                             f"{pod_name}-default-azure-kv")
    return record["status"]["objects"]


def _read(world: World, pod_obj: dict, name: str) -> bytes:
    path = os.path.join(world.driver.target(uid=pod_obj["metadata"]["uid"]), name)
    with open(path, "rb") as handle:
        return handle.read()


def test_republish_fetches_at_most_once_per_interval_then_rotates(world: World) -> None:
    provider = world.driver.provider
    provider.files = [("password", 0o644, b"one")]
    provider.versions = [("secret/password", "v1")]
    app = world.add_pod("app")
    world.publish(app)
    assert len(provider.requests) == 1

    provider.files = [("password", 0o644, b"two")]
    provider.versions = [("secret/password", "v2")]
    for _ in range(5):  # kubelet republishes often; all inside the interval
        world.clock.advance(INTERVAL / 10)
        world.publish(app)
    assert len(provider.requests) == 1
    assert _read(world, app, "password") == b"one"

    world.clock.advance(INTERVAL)
    world.publish(app)
    assert len(provider.requests) == 2
    assert _read(world, app, "password") == b"two"
    assert _status_objects(world, "app") == [{"id": "secret/password", "version": "v2"}]
    assert world.events(app) == [
        ("Normal", "MountRotationComplete",
         "successfully rotated mounted contents for spc default/azure-kv")]


def test_stable_content_keeps_the_gate_closed_unlike_upstream_mtime(world: World) -> None:
    """Upstream's mtime gate opens for good once content is stable; this one does not."""
    provider = world.driver.provider
    provider.files = [("password", 0o644, b"same")]
    app = world.add_pod("app")
    world.publish(app)
    for _ in range(3):
        world.clock.advance(INTERVAL + 1)
        world.publish(app)  # fetches: interval passed
        world.publish(app)  # skipped: just fetched
        world.publish(app)
    assert len(provider.requests) == 4
    assert world.events(app) == []  # nothing changed: no rotation event


def test_pod_status_is_not_rewritten_when_versions_are_unchanged(world: World) -> None:
    world.driver.provider.files = [("password", 0o644, b"same")]
    app = world.add_pod("app")
    world.publish(app)
    key = (f"{SPC_GROUP}/v1", "SecretProviderClassPodStatus", "default", "app-default-azure-kv")
    before = world.store.get(*key)["metadata"]["resourceVersion"]
    world.clock.advance(INTERVAL + 1)
    world.publish(app)
    assert len(world.driver.provider.requests) == 2
    assert world.store.get(*key)["metadata"]["resourceVersion"] == before


def test_failed_refresh_keeps_content_records_event_and_backs_off(world: World) -> None:
    provider = world.driver.provider
    provider.files = [("password", 0o644, b"kept")]
    app = world.add_pod("app")
    world.publish(app)

    provider.abort_with = (grpc.StatusCode.UNKNOWN, "failed to mount objects, error: boom")
    world.clock.advance(INTERVAL + 1)
    world.publish(app)  # masked: kubelet sees success
    assert len(provider.requests) == 2
    assert _read(world, app, "password") == b"kept"
    event = world.events(app)[-1]
    assert event[:2] == ("Warning", "MountRotationFailed")
    assert event[2] == (
        "failed to rotate objects for pod default/app, err: failed to mount secrets store "
        "objects for pod default/app, err: rpc error: code = Unknown desc = failed to mount "
        "objects, error: boom; the mounted content is kept; next attempt in 10s")

    # no hot loop: republishes inside the backoff do not call the provider
    for _ in range(5):
        world.clock.advance(1)
        world.publish(app)
    assert len(provider.requests) == 2
    world.clock.advance(BACKOFF.initial)
    world.publish(app)  # second failure: backoff doubles
    assert len(provider.requests) == 3
    assert world.events(app)[-1][2].endswith("next attempt in 20s")
    world.clock.advance(BACKOFF.initial * 2 - 1)
    world.publish(app)
    assert len(provider.requests) == 3

    provider.abort_with = None
    provider.files = [("password", 0o644, b"new")]
    world.clock.advance(1)
    world.publish(app)
    assert len(provider.requests) == 4
    assert _read(world, app, "password") == b"new"


def test_throttling_honours_retry_after_from_the_provider(world: World) -> None:
    provider = world.driver.provider
    provider.files = [("password", 0o644, b"kept")]
    app = world.add_pod("app")
    world.publish(app)
    provider.abort_with = (grpc.StatusCode.UNKNOWN,
                           "RESPONSE 429: 429 Too Many Requests\nRetry-After: 45")
    world.clock.advance(INTERVAL + 1)
    world.publish(app)
    assert world.events(app)[-1][2].endswith("next attempt in 45s")
    world.clock.advance(44)
    world.publish(app)
    assert len(provider.requests) == 2
    world.clock.advance(1)
    world.publish(app)
    assert len(provider.requests) == 3


def test_refresh_annotation_on_the_pod_forces_one_fetch(world: World) -> None:
    provider = world.driver.provider
    provider.files = [("password", 0o644, b"one")]
    app = world.add_pod("app")
    world.publish(app)
    provider.files = [("password", 0o644, b"two")]

    current = world.store.get("v1", "Pod", "default", "app")
    current["metadata"]["annotations"] = {REFRESH_ANNOTATION: "2026-01-01T00:00:00Z"}
    world.store.replace(current)
    world.publish(app)  # inside the interval, but forced
    assert len(provider.requests) == 2
    assert _read(world, app, "password") == b"two"
    world.publish(app)  # same token: no second fetch
    assert len(provider.requests) == 2


def test_refresh_annotation_on_the_class_forces_every_volume(world: World) -> None:
    provider = world.driver.provider
    provider.files = [("password", 0o644, b"one")]
    pods = [world.add_pod(f"app-{i}") for i in range(3)]
    for each in pods:
        world.publish(each)
    assert len(provider.requests) == 3  # first mounts never take a cached result

    provider.files = [("password", 0o644, b"two")]
    current = world.store.get(f"{SPC_GROUP}/v1", "SecretProviderClass", "default", "azure-kv")
    current["metadata"]["annotations"] = {REFRESH_ANNOTATION: "now"}
    world.store.replace(current)
    for each in pods:
        world.publish(each)
    assert len(provider.requests) == 6  # forced: each volume fetched fresh
    assert {_read(world, each, "password") for each in pods} == {b"two"}


def test_republish_outcomes_are_reported(world: World) -> None:
    world.driver.provider.files = [("password", 0o644, b"x")]
    app = world.add_pod("app")
    request = world.request(app)
    publish = PublishRequest(volume_id=request.volume_id, target_path=request.target_path,
                             volume_context=dict(request.volume_context), readonly=True)
    assert world.driver.publisher.publish(publish) is PublishOutcome.MOUNTED
    assert world.driver.publisher.publish(publish) is PublishOutcome.SKIPPED
    world.clock.advance(INTERVAL)
    assert world.driver.publisher.publish(publish) is PublishOutcome.REFRESHED


def test_unpublish_forgets_the_volume(world: World) -> None:
    world.driver.provider.files = [("password", 0o644, b"x")]
    app = world.add_pod("app")
    world.publish(app)
    assert world.driver.publisher.gate.tracked() == 1
    request = world.request(app)
    world.driver.node.NodeUnpublishVolume(csi_pb2.NodeUnpublishVolumeRequest(
        volume_id=request.volume_id, target_path=request.target_path))
    assert world.driver.publisher.gate.tracked() == 0


def test_with_rotation_off_republish_never_fetches(tmp_path) -> None:
    for world in make_world(tmp_path, rotation=False):
        world.store.create(spc())
        world.driver.provider.files = [("password", 0o644, b"one")]
        app = world.add_pod("app")
        world.publish(app)
        world.driver.provider.files = [("password", 0o644, b"two")]
        world.clock.advance(INTERVAL * 10)
        world.publish(app)
        assert len(world.driver.provider.requests) == 1
        assert _read(world, app, "password") == b"one"
