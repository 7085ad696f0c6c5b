"""Containers: processes in a private mount namespace, status, logs, exec, restarts."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from node_harness import CSI_DRIVER_OBJECT, NODE, FakeDriver, NodeEnv, csi_pod, wait_for

from kvcsi.node.containers import container_argv, expand_references, volume_env_name
from kvcsi.node.exec import PodAccessError, exec_in_pod, read_logs
from kvcsi.node.layout import HomeLayout

CLUSTER = "MyAKSCluster"


def _running(env: NodeEnv, name: str = "mypod") -> dict:
    return wait_for(lambda: (p := env.pod(name))["status"].get("phase") == "Running" and p)


@pytest.mark.requires_root
def test_container_sees_csi_file_at_mount_path_and_exec_reads_it(
        env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    env.start_driver(FakeDriver(files={"foo": b"hello-from-csi"}))
    command = ["sh", "-c", f"cat {mount_dir}/foo; echo; echo $GREETING; exec sleep 1000"]
    pod = csi_pod(command=command, mount_path=str(mount_dir))
    pod["spec"]["containers"][0]["env"] = [{"name": "GREETING", "value": "hi"}]
    env.store.create(pod)
    env.start()

    running = _running(env)
    status = running["status"]
    assert status["hostIP"] == "127.0.0.1"
    assert status["startTime"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True",
        "ContainersReady": "True", "PodScheduled": "True"}
    container = status["containerStatuses"][0]
    assert container["ready"] is True and "running" in container["state"]

    logs = wait_for(lambda: read_logs(env.home, CLUSTER, "default", "mypod", "busybox")
                    .count(b"\n") >= 2 and read_logs(env.home, CLUSTER, "default", "mypod"))
    assert logs == b"hello-from-csi\nhi\n"
    # The bind exists only inside the container's mount namespace.
    assert mount_dir.is_dir() and not (mount_dir / "foo").exists()

    out = io.BytesIO()
    read_fd, write_fd = os.pipe()
    code = exec_in_pod(env.home, CLUSTER, "default", "mypod", "busybox",
                       ["sh", "-c", f"cat {mount_dir}/foo; echo \" $GREETING\"; "
                                    f"touch {mount_dir}/new 2>/dev/null || echo read-only"],
                       stdout=write_fd)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        out.write(reader.read())
    assert code == 0
    assert out.getvalue() == b"hello-from-csi hi\nread-only\n"
    assert exec_in_pod(env.home, CLUSTER, "default", "mypod", None, ["sh", "-c", "exit 3"]) == 3


def test_container_without_command_runs_placeholder(env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    env.start_driver(FakeDriver())
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()
    running = _running(env)
    uid = running["metadata"]["uid"]
    pid = int(env.node().pod(uid).container_pid_file("busybox").read_text().split()[0])
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    wait_for(lambda: Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2]
             == [b"sleep", b"infinity"])
    assert cmdline  # the process exists
    events = {e["reason"]: e["message"] for e in env.store.events_for(running)}
    assert events["Scheduled"] == f"Successfully assigned default/mypod to {NODE}"


def test_exec_and_logs_errors(env: NodeEnv, mount_dir: Path) -> None:
    env.store.apply(CSI_DRIVER_OBJECT)
    env.store.create(csi_pod(mount_path=str(mount_dir)))
    env.start()
    wait_for(lambda: env.events("mypod", "FailedMount"))
    with pytest.raises(PodAccessError) as logs_error:
        read_logs(env.home, CLUSTER, "default", "mypod", "busybox")
    assert str(logs_error.value) == ('Error from server (BadRequest): container "busybox" in '
                                     'pod "mypod" is waiting to start: ContainerCreating')
    with pytest.raises(PodAccessError) as exec_error:
        exec_in_pod(env.home, CLUSTER, "default", "mypod", "busybox", ["true"])
    assert str(exec_error.value) == ('error: unable to upgrade connection: container not found '
                                     '("busybox")')
    with pytest.raises(PodAccessError) as missing:
        read_logs(env.home, CLUSTER, "default", "nopod")
    assert str(missing.value) == 'Error from server (NotFound): pods "nopod" not found'


def test_exited_container_restart_policy_never_fails_pod(env: NodeEnv) -> None:
    env.store.create({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "job", "namespace": "default"},
                      "spec": {"restartPolicy": "Never", "containers": [
                          {"name": "main", "image": "busybox",
                           "command": ["sh", "-c", "echo done; exit 4"]}]}})
    env.start()
    status = wait_for(lambda: (s := env.pod("job")["status"]).get("phase") == "Failed" and s)
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 4 and terminated["reason"] == "Error"
    assert read_logs(env.home, CLUSTER, "default", "job") == b"done\n"


def test_restart_policy_always_restarts_with_backoff(env: NodeEnv) -> None:
    env.store.create({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "crash", "namespace": "default"},
                      "spec": {"containers": [{"name": "main", "image": "busybox",
                                               "command": ["sh", "-c", "exit 1"]}]}})
    env.start()
    status = wait_for(lambda: (s := env.pod("crash")["status"]).get("containerStatuses")
                      and s["containerStatuses"][0]["restartCount"] >= 2 and s)
    assert status["phase"] == "Running"
    last = status["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 1
    back_off = wait_for(lambda: env.events("crash", "BackOff"))
    uid = status and env.pod("crash")["metadata"]["uid"]
    assert back_off[0]["message"] == (
        f"Back-off restarting failed container main in pod crash_default({uid})")


def test_helpers() -> None:
    assert volume_env_name("secrets-store01-inline") == "KVCSI_VOLUME_SECRETS_STORE01_INLINE"
    assert expand_references("$(A)-$$(A)-$(B)", {"A": "x"}) == "x-$(A)-$(B)"
    assert container_argv({"args": ["x"]}, {}) == ["sleep", "infinity"]
    assert container_argv({"command": ["echo", "$(A)"], "args": ["$(A)"]}, {"A": "1"}) == [
        "echo", "1", "1"]


def test_container_init_binds_read_only(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    source = tmp_path / "src"
    source.mkdir()
    (source / "f").write_text("v")
    target = tmp_path / "dst"
    target.mkdir()
    import sys

    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--", sys.executable, "-I", "-m",
         "kvcsi.node.container_init", "--ro-bind", str(source), str(target), "--workdir",
         str(target), "--", "sh", "-c", "cat f; touch g 2>/dev/null || echo ro"],
        capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "vro\n")
    assert not (target / "f").exists()


def test_layout_paths() -> None:
    layout = HomeLayout(Path("/h"))
    node = layout.cluster("c").node("n")
    assert str(node.driver_socket) == "/h/clusters/c/nodes/n/plugins/csi-secrets-store/csi.sock"
    assert str(node.pod("u").container_log("app")) == "/h/clusters/c/nodes/n/pods/u/app.log"
    assert str(layout.plugin_log("c", "n", "driver")) == "/h/logs/c-n-driver.log"


def test_without_mount_namespace_volume_paths_are_in_env(
        env: NodeEnv, mount_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kvcsi.node import containers

    monkeypatch.setattr(containers, "namespace_mode", lambda: containers.NamespaceMode.NONE)
    env.store.apply(CSI_DRIVER_OBJECT)
    env.start_driver(FakeDriver(files={"foo": b"via-env"}))
    command = ["sh", "-c", "cat $KVCSI_VOLUME_SECRETS_STORE01_INLINE/foo; exec sleep 1000"]
    env.store.create(csi_pod(command=command, mount_path=str(mount_dir)))
    env.start()
    _running(env)
    logs = wait_for(lambda: read_logs(env.home, CLUSTER, "default", "mypod"))
    assert logs == b"via-env"
    assert not mount_dir.exists()
