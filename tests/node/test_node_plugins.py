"""Plugin processes from DaemonSets, process supervision, Node registration, discovery."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from node_harness import CLUSTER, NODE, NodeEnv, get_or_none, wait_for, write_cluster

from kvcsi.cluster.bundled import DRIVER_MANIFEST, PROVIDER_MANIFEST
from kvcsi.cluster.manifests import apply_sources
from kvcsi.node import csi_client
from kvcsi.node.discovery import ClusterDiscovery, agent_pool_of
from kvcsi.node.layout import HomeLayout
from kvcsi.node.plugins import (
    DRIVER_PASSTHROUGH_FLAGS,
    desired_plugins,
    passthrough_args,
)
from kvcsi.node.supervisor import Backoff, ProcessSpec, SupervisedProcess


def _daemonset(component: str, args: list[str], container: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": f"ds-{component}", "namespace": "kube-system",
                         "labels": {"kvcsi.dev/component": component,
                                    "app.kubernetes.io/part-of": "kvcsi"}},
            "spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                           "containers": [{"name": container, "args": args}]}}}}


def test_desired_plugin_commands(tmp_path: Path) -> None:
    home = tmp_path
    write_cluster(home, [NODE])
    layout = HomeLayout(home)
    cluster = ClusterDiscovery(layout).scan()[CLUSTER]
    driver_ds = _daemonset("driver", ["--endpoint=$(CSI_ENDPOINT)", "--nodeid=$(KUBE_NODE_NAME)",
                                      "--metrics-addr=:8095", "--enable-secret-rotation=true",
                                      "--rotation-poll-interval", "30s", "--v=5"],
                           "secrets-store")
    provider_ds = _daemonset("provider", ["--endpoint=unix:///provider/azure.sock",
                                          "--construct-pem-chain=true", "--healthz-port=8989"],
                             "provider-azure-installer")
    desired = desired_plugins(layout, cluster, [driver_ds, provider_ds])
    assert set(desired) == {(NODE, "driver"), (NODE, "provider")}
    node_dir = layout.cluster(CLUSTER).node(NODE)

    driver = desired[(NODE, "driver")]
    assert Path(driver.argv[0]).name == "secrets-store-csi-driver"
    endpoint = Path(driver.argv[1].removeprefix("--endpoint=unix://"))
    assert endpoint.name == "csi.sock" and len(str(endpoint)) <= 100
    # pytest's tmp_path is too deep for sun_path: the endpoint is a short alias of the dir
    assert os.readlink(endpoint.parent) == str(node_dir.driver_socket.parent)
    assert driver.argv[2] == f"--nodeid={NODE}"
    assert driver.argv[5:] == ("--metrics-addr=", "--enable-secret-rotation=true",
                               "--rotation-poll-interval=30s", "--v=5")
    env = dict(driver.env)
    assert env["KVCSI_CLUSTER_STORE"] == str(home / "clusters" / CLUSTER / "store.db")
    assert driver.log_file == home / "logs" / f"{CLUSTER}-{NODE}-driver.log"

    provider = desired[(NODE, "provider")]
    assert Path(provider.argv[0]).name == "secrets-store-csi-driver-provider-azure"
    assert provider.argv[2:] == ("--cloud-name=AzureStackCloud", "--healthz-port=0",
                                 "--prometheus-port=0", "--construct-pem-chain=true")
    env = dict(provider.env)
    assert env["AZURE_ENVIRONMENT_FILEPATH"] == str(home / "cloud" / "environment.json")
    assert env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] == "http://127.0.0.1:8480/vms/vm-0"
    assert env["REQUESTS_CA_BUNDLE"] == str(home / "cloud" / "ca.pem")
    assert env["KVCSI_RESOLVE_LOCALHOST"] == "1" and env["KVCSI_LOOPBACK_ONLY"] == "1"
    assert "KVCSI_CLUSTER_STORE" not in env


def test_passthrough_args_keep_only_behaviour_flags() -> None:
    assert passthrough_args(["--endpoint=x", "--enable-secret-rotation", "--drivername", "d",
                             "positional", "--unknown=1"], DRIVER_PASSTHROUGH_FLAGS) == [
        "--enable-secret-rotation", "--drivername=d"]


def test_supervised_process_restarts_with_backoff(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    script = f"open({str(counter)!r}, 'a').write('x'); raise SystemExit(3)"
    spec = ProcessSpec.build([sys.executable, "-c", script], {}, tmp_path / "p.log")
    process = SupervisedProcess("crasher", spec, Backoff(0.1, 2.0, 0.2))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (not counter.exists() or len(counter.read_text()) < 3):
        process.poll()
        time.sleep(0.02)
    process.stop()
    assert len(counter.read_text()) >= 3
    assert process.restarts >= 2
    assert Backoff(0.5, 2.0, 5.0).delay(1) == 0.5
    assert [Backoff(0.5, 2.0, 5.0).delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 5, 5]


def test_discovery_reads_nodes_and_agent_pool(tmp_path: Path) -> None:
    write_cluster(tmp_path, [NODE, "aks-nodepool1-12345678-vmss000001"])
    clusters = ClusterDiscovery(HomeLayout(tmp_path)).scan()
    assert [n.name for n in clusters[CLUSTER].nodes] == [NODE, "aks-nodepool1-12345678-vmss000001"]
    assert clusters[CLUSTER].nodes[0].imds_endpoint == "http://127.0.0.1:8480/vms/vm-0"
    assert agent_pool_of(NODE) == "nodepool1"
    assert agent_pool_of("aks-user-pool-87654321-vmss000002") == "user-pool"


def test_nodes_registered_and_pods_spread() -> None:
    second = "aks-nodepool1-12345678-vmss000001"
    env = NodeEnv(nodes=[NODE, second])
    try:
        for name in ("a", "b"):
            env.store.create({"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": name, "namespace": "default"},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        env.start()
        node = wait_for(lambda: (n := get_or_none(env.store, "v1", "Node", None, NODE))
                        and (n.get("status") or {}).get("conditions") and n)
        assert node["metadata"]["labels"] == {
            "kubernetes.io/hostname": NODE, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "kubernetes.azure.com/agentpool": "nodepool1",
            "agentpool": "nodepool1"}
        ready = node["status"]["conditions"][0]
        assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True",
                                                                     "KubeletReady")
        wait_for(lambda: all(env.pod(n)["status"].get("phase") == "Running" for n in "ab"))
        assert {env.pod(n)["spec"]["nodeName"] for n in "ab"} == {NODE, second}
        scheduled = [c for c in env.pod("a")["status"]["conditions"]
                     if c["type"] == "PodScheduled"]
        assert scheduled[0]["status"] == "True"

        write_cluster(env.home, [NODE])  # scale down: node and its pods go away
        wait_for(lambda: len(env.store.list("v1", "Node")) == 1)
        wait_for(lambda: len(env.store.list("v1", "Pod", "default")) == 1)
    finally:
        env.close()


def test_real_plugin_processes_start_and_register() -> None:
    env = NodeEnv()
    try:
        apply_sources(env.store, [str(DRIVER_MANIFEST), str(PROVIDER_MANIFEST)])
        env.start()
        node_dir = env.node()
        name = wait_for(lambda: csi_client.plugin_name(node_dir.driver_socket), timeout=30)
        assert name == "secrets-store.csi.k8s.io"
        wait_for(lambda: node_dir.provider_socket.exists(), timeout=30)
        cluster = env.runtime.clusters[CLUSTER]
        assert set(cluster.plugins.running()) == {(NODE, "driver"), (NODE, "provider")}
        csi_node = wait_for(lambda: (n := get_or_none(env.store, "storage.k8s.io/v1", "CSINode",
                                                      None, NODE)) and n["spec"]["drivers"] and n)
        assert csi_node["spec"]["drivers"] == [
            {"name": "secrets-store.csi.k8s.io", "nodeID": NODE, "topologyKeys": None}]
        ds = wait_for(lambda: (d := env.store.get("apps/v1", "DaemonSet", "kube-system",
                                                  "csi-secrets-store")).get("status") and d)
        assert (ds["status"]["desiredNumberScheduled"], ds["status"]["numberReady"]) == (1, 1)
        env.store.delete("apps/v1", "DaemonSet", "kube-system", "csi-secrets-store-provider-azure")
        wait_for(lambda: set(cluster.plugins.running()) == {(NODE, "driver")})
        log = env.layout.plugin_log(CLUSTER, NODE, "driver")
        assert log.exists()
    finally:
        env.close()


def test_main_writes_ready_file_and_stops_on_sigterm() -> None:
    import signal
    import subprocess

    from node_harness import short_tmp_dir

    home = short_tmp_dir()
    write_cluster(home, [NODE])
    from kvcsi.cluster import connect

    connect(str(home / "clusters" / CLUSTER / "store.db"), create=True).close()
    process = subprocess.Popen([sys.executable, "-m", "kvcsi.node", "--home", str(home),
                                "--poll-interval", "0.05"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: (home / "run" / "node.ready").exists(), timeout=20)
        from kvcsi.cluster import connect as reconnect

        store = reconnect(str(home / "clusters" / CLUSTER / "store.db"))
        wait_for(lambda: store.list("v1", "Node"), timeout=10)
        store.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert not (home / "run" / "node.ready").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)
