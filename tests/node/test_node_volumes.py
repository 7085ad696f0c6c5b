"""kubelet's CSI part: NodePublishVolume request, FailedMount events, backoff, unpublish."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import grpc
from node_harness import CSI_DRIVER_OBJECT, NODE, FakeDriver, NodeEnv, csi_pod, wait_for

from kvcsi._proto import csi_pb2
from kvcsi.node.volumes import volume_handle

VOLUME = "secrets-store01-inline"


def test_volume_handle_is_sha256_of_pod_uid_and_volume_name() -> None:
    uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    expected = hashlib.sha256(f"{uid}{VOLUME}".encode()).hexdigest()
    assert volume_handle(uid, VOLUME) == f"csi-{expected}"
    assert len(volume_handle(uid, VOLUME)) == 4 + 64


def test_publish_request_is_kubelets(env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    env.store.create({"apiVersion": "v1", "kind": "Secret",
                      "metadata": {"name": "secrets-store-creds", "namespace": "default"},
                      "data": {"clientid": base64.b64encode(b"id-123").decode(),
                               "clientsecret": base64.b64encode(b"s3cr3t").decode()}})
    driver = env.start_driver(FakeDriver())
    env.store.create(csi_pod(mount_path=str(mount_dir), secret_ref="secrets-store-creds"))
    env.start()

    wait_for(lambda: driver.publishes)
    request = driver.publishes[0]
    uid = env.pod("mypod")["metadata"]["uid"]
    target = env.node().pod(uid).csi_target_path(VOLUME)
    assert request.volume_id == "csi-" + hashlib.sha256(f"{uid}{VOLUME}".encode()).hexdigest()
    assert request.target_path == str(target)
    suffix = f"/nodes/{NODE}/pods/{uid}/volumes/kubernetes.io~csi/{VOLUME}/mount"
    assert str(target).endswith(suffix)
    assert request.readonly is True
    assert request.staging_target_path == ""
    assert dict(request.publish_context) == {}
    assert dict(request.volume_context) == {
        "secretProviderClass": "azure-kvname",
        "csi.storage.k8s.io/pod.name": "mypod",
        "csi.storage.k8s.io/pod.namespace": "default",
        "csi.storage.k8s.io/pod.uid": uid,
        "csi.storage.k8s.io/serviceAccount.name": "default",
        "csi.storage.k8s.io/ephemeral": "true",
    }
    assert dict(request.secrets) == {"clientid": "id-123", "clientsecret": "s3cr3t"}
    capability = request.volume_capability
    assert capability.WhichOneof("access_type") == "mount"
    assert capability.mount.fs_type == ""
    assert list(capability.mount.mount_flags) == []
    assert capability.access_mode.mode == csi_pb2.VolumeCapability.AccessMode.SINGLE_NODE_WRITER
    assert (target.parent / "vol_data.json").exists()


def test_pod_info_keys_only_with_pod_info_on_mount(env: NodeEnv, mount_dir: Path) -> None:
    csi_driver = {**CSI_DRIVER_OBJECT, "spec": {**CSI_DRIVER_OBJECT["spec"],
                                                "podInfoOnMount": False}}
    env.store.apply(csi_driver)
    driver = env.start_driver(FakeDriver())
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()
    wait_for(lambda: driver.publishes)
    assert dict(driver.publishes[0].volume_context) == {"secretProviderClass": "azure-kvname"}


def test_failed_publish_records_event_retries_with_backoff_then_runs(
        env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    message = ("failed to mount secrets store objects for pod default/mypod, err: rpc error: "
               "code = Unknown desc = failed to mount objects, error: keyvault not found")
    driver = env.start_driver(FakeDriver(failures=[(grpc.StatusCode.UNKNOWN, message)] * 3))
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()

    events = wait_for(lambda: env.events("mypod", "FailedMount"))
    assert events[0]["type"] == "Warning"
    assert events[0]["message"] == (
        f'MountVolume.SetUp failed for volume "{VOLUME}" : rpc error: code = Unknown desc = '
        f"{message}")
    assert events[0]["source"] == {"component": "kubelet", "host": NODE}
    pending = env.pod("mypod")["status"]
    assert pending["phase"] == "Pending"
    assert pending["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}

    wait_for(lambda: env.pod("mypod")["status"]["phase"] == "Running")
    assert len(driver.publishes) == 4
    gaps = [b - a for a, b in zip(driver.publish_times, driver.publish_times[1:], strict=False)]
    # fast_settings: 0.2 s doubling, capped at 0.8 s
    assert [round(g, 1) for g in gaps] == [0.2, 0.4, 0.8] or all(
        low - 0.05 <= g <= low + 0.35 for g, low in zip(gaps, (0.2, 0.4, 0.8), strict=True))
    assert env.events("mypod", "FailedMount")[0]["count"] == 3


def test_unregistered_driver_event(env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()
    events = wait_for(lambda: env.events("mypod", "FailedMount"))
    assert events[0]["message"] == (
        f'MountVolume.SetUp failed for volume "{VOLUME}" : kubernetes.io/csi: '
        "mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not "
        "found in the list of registered CSI drivers")
    assert env.pod("mypod")["status"]["phase"] == "Pending"


def test_missing_node_publish_secret(env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    driver = env.start_driver(FakeDriver())
    env.store.create(csi_pod(mount_path=str(mount_dir), secret_ref="secrets-store-creds"))
    env.start()
    events = wait_for(lambda: env.events("mypod", "FailedMount"))
    assert events[0]["message"] == (
        f'MountVolume.SetUp failed for volume "{VOLUME}" : fetching NodePublishSecretRef '
        'default/secrets-store-creds failed: secrets "secrets-store-creds" not found')
    assert driver.publishes == []


def test_missing_csidriver_object(env: NodeEnv, mount_dir: Path) -> None:
    env.start_driver(FakeDriver())
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()
    events = wait_for(lambda: env.events("mypod", "FailedMount"))
    assert events[0]["message"] == (
        f'MountVolume.SetUp failed for volume "{VOLUME}" : kubernetes.io/csi: '
        'mounter.SetupAt failed to check volume lifecycle mode: volume mode "Ephemeral" not '
        "supported by driver secrets-store.csi.k8s.io (no CSIDriver object)")


def test_republish_when_driver_requires_it(mount_dir: Path) -> None:
    from node_harness import fast_settings

    env = NodeEnv(settings=fast_settings(sync_period=0.3))
    try:
        env.store.apply({**CSI_DRIVER_OBJECT, "spec": {**CSI_DRIVER_OBJECT["spec"],
                                                       "requiresRepublish": True}})
        driver = env.start_driver(FakeDriver())
        env.store.create(csi_pod(mount_path=str(mount_dir)))
        env.start()
        wait_for(lambda: len(driver.publishes) >= 3)
        assert len({r.volume_id for r in driver.publishes}) == 1
        assert len({r.target_path for r in driver.publishes}) == 1
    finally:
        env.close()


def test_delete_pod_unpublishes_and_removes_pod_dir(env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    driver = env.start_driver(FakeDriver())
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()
    wait_for(lambda: env.pod("mypod")["status"]["phase"] == "Running")
    uid = env.pod("mypod")["metadata"]["uid"]
    pid_file = env.node().pod(uid).container_pid_file("busybox")
    pid = int(pid_file.read_text().split()[0])

    env.store.delete("v1", "Pod", "default", "mypod")

    wait_for(lambda: not env.store.list("v1", "Pod", "default"))
    assert len(driver.unpublishes) == 1
    assert driver.unpublishes[0].volume_id == driver.publishes[0].volume_id
    assert driver.unpublishes[0].target_path == driver.publishes[0].target_path
    assert not env.node().pod(uid).root.exists()
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert [e["message"] for e in env.events("mypod", "Killing")] == [
        "Stopping container busybox"]


def test_shutdown_unpublishes_and_stops_containers(env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    driver = env.start_driver(FakeDriver())
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()
    wait_for(lambda: env.pod("mypod")["status"]["phase"] == "Running")
    uid = env.pod("mypod")["metadata"]["uid"]
    pid = int(env.node().pod(uid).container_pid_file("busybox").read_text().split()[0])
    started = time.monotonic()
    env.stop_runtime()
    assert time.monotonic() - started < 10
    assert len(driver.unpublishes) == 1
    assert not Path(driver.publishes[0].target_path).exists()
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert not env.layout.ready_file.exists()
    node = env.store.get("v1", "Node", None, NODE)
    assert node["status"]["conditions"][0]["status"] == "Unknown"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
