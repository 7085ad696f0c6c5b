"""Sync as Kubernetes Secret from a publish: shape, no needless writes, never foreign Secrets."""

from __future__ import annotations

import base64

from ..rotation.world import INTERVAL, SPC_GROUP, World, spc


def _secret(world: World, name: str = "app-secret") -> dict:
    return world.store.get("v1", "Secret", "default", name)


def _decoded(secret: dict) -> dict[str, bytes]:
    return {key: base64.b64decode(value) for key, value in secret["data"].items()}


def test_publish_creates_the_secret_with_type_labels_annotations_owner(world: World) -> None:
    app = world.add_pod("app")
    world.publish(app)
    secret = _secret(world)
    assert secret["type"] == "Opaque"
    assert _decoded(secret) == {"password": b"s3cr3t", "user": b"admin"}
    assert secret["metadata"]["labels"] == {"team": "a",
                                            "secrets-store.csi.k8s.io/managed": "true"}
    assert secret["metadata"]["annotations"] == {"note": "synced"}
    assert secret["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": "app", "uid": app["metadata"]["uid"]}]
    assert world.events(app) == []


def test_owner_references_are_the_pods_owners_without_flags(world: World) -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-7d9f",
             "uid": "rs-uid-1", "controller": True, "blockOwnerDeletion": True}
    app = world.add_pod("app", owners=[owner])
    world.publish(app)
    assert _secret(world)["metadata"]["ownerReferences"] == [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-7d9f", "uid": "rs-uid-1"}]


def test_unchanged_content_is_not_written_again(world: World) -> None:
    first, second = world.add_pod("app-1"), world.add_pod("app-2")
    world.publish(first)
    world.publish(second)  # adds its owner: one update
    version = _secret(world)["metadata"]["resourceVersion"]
    assert [ref["name"] for ref in _secret(world)["metadata"]["ownerReferences"]] == [
        "app-1", "app-2"]
    for _ in range(3):
        world.clock.advance(INTERVAL)
        world.publish(first)
        world.publish(second)
    assert _secret(world)["metadata"]["resourceVersion"] == version


def test_rotation_updates_the_secret_and_records_events(world: World) -> None:
    app = world.add_pod("app")
    world.publish(app)
    world.driver.provider.files = [("db-password", 0o644, b"v2-value"),
                                   ("username", 0o644, b"admin")]
    world.clock.advance(INTERVAL)
    world.publish(app)
    assert _decoded(_secret(world))["password"] == b"v2-value"
    assert world.events(app) == [
        ("Normal", "MountRotationComplete",
         "successfully rotated mounted contents for spc default/azure-kv"),
        ("Normal", "SecretRotationComplete", "successfully rotated K8s secret app-secret"),
    ]


def test_labels_and_annotations_added_by_others_are_kept(world: World) -> None:
    app = world.add_pod("app")
    world.publish(app)
    secret = _secret(world)
    secret["metadata"]["labels"]["added-by"] = "ops"
    secret["metadata"]["annotations"]["reloader"] = "yes"
    world.store.replace(secret)
    world.driver.provider.files = [("db-password", 0o644, b"new"), ("username", 0o644, b"u")]
    world.clock.advance(INTERVAL)
    world.publish(app)
    secret = _secret(world)
    assert secret["metadata"]["labels"]["added-by"] == "ops"
    assert secret["metadata"]["annotations"] == {"note": "synced", "reloader": "yes"}
    assert _decoded(secret) == {"password": b"new", "user": b"u"}


def test_a_secret_kvcsi_does_not_manage_is_never_overwritten(world: World) -> None:
    world.store.create({"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": "app-secret", "namespace": "default"},
                        "type": "Opaque", "data": {"password": "bWluZQ=="}})
    app = world.add_pod("app")
    world.publish(app)
    secret = _secret(world)
    assert secret["data"] == {"password": "bWluZQ=="}
    assert "labels" not in secret["metadata"]
    assert world.events(app) == [(
        "Warning", "FailedToCreateSecret",
        "failed to create secret app-secret for spc default/azure-kv: a Secret "
        "default/app-secret already exists and is not managed by the Secrets Store CSI driver "
        "(label secrets-store.csi.k8s.io/managed=true is missing); it is left unchanged")]
    event = world.store.events_for(app)[0]
    assert event["source"] == {"component": "csi-secrets-store-controller",
                               "host": "aks-nodepool1-12345678-vmss000000"}


def test_invalid_secret_objects_are_reported(world: World) -> None:
    world.store.create(spc("bad", secret_objects=[
        {"secretName": "", "type": "Opaque", "data": [{"objectName": "a", "key": "b"}]},
        {"secretName": "s2", "type": "", "data": [{"objectName": "a", "key": "b"}]},
        {"secretName": "s3", "type": "Opaque", "data": []},
    ]))
    app = world.add_pod("app", spc_name="bad")
    world.publish(app)
    assert [message for _type, _reason, message in world.events(app)] == [
        "failed to validate secret object in spc default/bad, err: secret name is empty",
        "failed to validate secret object in spc default/bad, err: secret type is empty",
        "failed to validate secret object in spc default/bad, err: data is empty",
    ]


def test_sync_failure_never_fails_the_mount(world: World) -> None:
    world.store.create(spc("bad", secret_objects=[
        {"secretName": "s", "type": "Opaque", "data": [{"objectName": "nope", "key": "k"}]}]))
    app = world.add_pod("app", spc_name="bad")
    world.publish(app)  # no exception: the volume is mounted
    status = world.store.get(f"{SPC_GROUP}/v1", "SecretProviderClassPodStatus", "default",
                             "app-default-bad")
    assert status["status"]["mounted"] is True
