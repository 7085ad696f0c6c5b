"""The periodic pass: Secrets removed when no mounting pod remains, missing ones recreated."""

from __future__ import annotations

from kvcsi.driver.secret_sync_reconciler import SecretSyncReconciler, target_belongs_to_pod

from ..harness import NODE_ID
from ..rotation.world import World


def _reconciler(world: World) -> SecretSyncReconciler:
    return SecretSyncReconciler(world.store, world.driver.publisher.syncer, NODE_ID)


def _secret_names(world: World) -> list[str]:
    return [s["metadata"]["name"] for s in world.store.list("v1", "Secret", "default")]


def test_secret_removed_after_the_last_mounting_pod_is_gone(world: World) -> None:
    owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "rs-uid"}]
    first = world.add_pod("app-1", owners=owner)
    second = world.add_pod("app-2", owners=owner)
    world.publish(first)
    world.publish(second)
    reconciler = _reconciler(world)
    assert reconciler.reconcile_once() == ([], [])

    world.store.delete("v1", "Pod", "default", "app-1", grace_period_seconds=0)
    assert reconciler.reconcile_once() == ([], [])
    assert reconciler.reconcile_once() == ([], [])  # app-2 still mounts it
    assert "app-secret" in _secret_names(world)

    # scaled to zero: the ReplicaSet owner remains, the Secret must still go (#1770)
    world.store.delete("v1", "Pod", "default", "app-2", grace_period_seconds=0)
    assert reconciler.reconcile_once() == ([], [])  # first pass only marks it
    assert reconciler.reconcile_once() == ([], ["default/app-secret"])
    assert "app-secret" not in _secret_names(world)


def test_terminating_pods_do_not_keep_a_secret(world: World) -> None:
    app = world.add_pod("app")
    world.publish(app)
    current = world.store.get("v1", "Pod", "default", "app")
    current["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    world.store.replace(current)
    reconciler = _reconciler(world)
    reconciler.reconcile_once()
    assert reconciler.reconcile_once() == ([], ["default/app-secret"])


def test_unmanaged_secrets_are_never_removed(world: World) -> None:
    world.store.create({"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": "mine", "namespace": "default"},
                        "type": "Opaque", "data": {}})
    reconciler = _reconciler(world)
    reconciler.reconcile_once()
    reconciler.reconcile_once()
    assert _secret_names(world) == ["mine"]


def test_a_deleted_secret_is_recreated_while_a_pod_mounts_it(world: World) -> None:
    owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "rs-uid"}]
    app = world.add_pod("app", owners=owner)
    world.publish(app)
    world.store.delete("v1", "Secret", "default", "app-secret")
    assert _reconciler(world).reconcile_once() == (["default/app-secret"], [])
    assert world.store.get("v1", "Secret", "default", "app-secret")["data"]["password"] == (
        "czNjcjN0")


def test_recorded_target_path_must_be_the_pods_own_volume(world: World) -> None:
    app = world.add_pod("app")
    uid = app["metadata"]["uid"]
    good = f"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/secrets-store-inline/mount"
    driver = "secrets-store.csi.k8s.io"
    assert target_belongs_to_pod(good, app, "azure-kv", driver)
    assert not target_belongs_to_pod(good.replace(uid, "other-uid"), app, "azure-kv", driver)
    assert not target_belongs_to_pod(good.replace("secrets-store-inline", "x"), app,
                                     "azure-kv", driver)
    assert not target_belongs_to_pod("/etc", app, "azure-kv", driver)
    assert not target_belongs_to_pod(good, app, "other-spc", driver)


def test_secret_owned_by_two_pods_survives_one_of_them(world: World) -> None:
    """Owner references to pods: whatever garbage collection does when one owner goes, the
    Secret exists after the next pass while another pod still mounts it."""
    first, second = world.add_pod("app-1"), world.add_pod("app-2")
    world.publish(first)
    world.publish(second)
    world.store.delete("v1", "Pod", "default", "app-1", grace_period_seconds=0)
    _reconciler(world).reconcile_once()
    secret = world.store.get("v1", "Secret", "default", "app-secret")
    assert secret["data"]["password"] == "czNjcjN0"
    assert {ref["name"] for ref in secret["metadata"]["ownerReferences"]} >= {"app-2"}
