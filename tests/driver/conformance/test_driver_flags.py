"""The upstream flags of ``secrets-store-csi-driver``, each observed on a running process."""

from __future__ import annotations

import os
import re
import socket
import urllib.request

import grpc
import pytest

from kvcsi._proto import csi_pb2
from kvcsi.driver.mounter import mount_points

from .conftest import provider_flags
from .driver_process import publish_request, start_driver, target_path


def super_options(path: str) -> str:
    """The superblock options of the mount at ``path`` (from mountinfo)."""
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as lines:
        for line in lines:
            fields = line.split()
            if fields[4] == real:
                return fields[-1]
    raise AssertionError(f"{path} is not mounted")


def test_endpoint_drivername_and_nodeid_over_tcp(setup):
    driver = start_driver(setup.base, setup.store_path, "--drivername=example.csi.k8s.io",
                          "--nodeid=node-7", "--metrics-addr=0",
                          endpoint="tcp://127.0.0.1:0")
    try:
        assert re.match(r"127\.0\.0\.1:\d+$", driver.target)
        info = driver.identity.GetPluginInfo(csi_pb2.GetPluginInfoRequest(), timeout=10)
        assert info.name == "example.csi.k8s.io"
        node = driver.node.NodeGetInfo(csi_pb2.NodeGetInfoRequest(), timeout=10)
        assert node.node_id == "node-7"
    finally:
        assert driver.stop() == 0


def test_provider_dirs_are_searched_in_upstream_order_and_listed(setup):
    """Also: a stale socket file at the --endpoint path is replaced."""
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(os.path.join(setup.base, "csi.sock"))
    stale.close()  # the file stays, nobody listens
    first, second = os.path.join(setup.base, "etc1"), os.path.join(setup.base, "etc2")
    driver = start_driver(
        setup.base, setup.store_path,
        f"--additional-provider-volume-paths={first},{second}",
        f"--provider-volume={setup.provider_dir}", "--metrics-addr=0",
    )
    try:
        assert driver.target == f"unix:{setup.base}/csi.sock"
        target = target_path(setup.kubelet_dir, "no-provider")
        request = publish_request(target, volume_context_extra={"secretProviderClass":
                                                                "azure-spc"})
        with pytest.raises(grpc.RpcError) as raised:
            driver.node.NodePublishVolume(request, timeout=30)
        assert raised.value.details() == (
            "failed to mount secrets store objects for pod default/busybox-secrets-store-inline,"
            ' err: error connecting to provider "azure": provider not found: provider "azure" '
            f"(looked for {first}/azure.sock, {second}/azure.sock, "
            f"{setup.provider_dir}/azure.sock)"
        )
        assert not os.path.ismount(target)
        # the fake provider sits in --provider-volume only: found there
        driver.node.NodePublishVolume(publish_request(target_path(setup.kubelet_dir, "ok")),
                                      timeout=30)
    finally:
        assert driver.stop() == 0


# rotation off (one fetch per volume) is covered by the module driver in test_csi_sanity
@pytest.mark.parametrize(("rotation_flags", "fetches"), [
    (["--enable-secret-rotation"], 1),  # the default 2m poll interval
    (["--enable-secret-rotation=true", "--rotation-poll-interval=0s"], 2),
], ids=["inside-interval", "interval-elapsed"])
def test_rotation_flags_decide_whether_a_republish_fetches(setup, rotation_flags, fetches):
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup), *rotation_flags)
    try:
        target = target_path(setup.kubelet_dir, "rotate")
        driver.node.NodePublishVolume(publish_request(target), timeout=30)
        setup.provider.files = [("username", 0o644, b"rotated")]
        driver.node.NodePublishVolume(publish_request(target), timeout=30)  # kubelet republish
        assert len(setup.provider.requests) == fetches
        with open(os.path.join(target, "username"), "rb") as mounted:
            assert mounted.read() == (b"rotated" if fetches == 2 else b"admin")
    finally:
        assert driver.stop() == 0


def test_max_call_recv_msg_size_limits_the_provider_answer(setup):
    setup.provider.files = [("big", 0o644, b"x" * 4096)]
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup),
                          "--max-call-recv-msg-size=1024")
    try:
        target = target_path(setup.kubelet_dir, "big")
        with pytest.raises(grpc.RpcError) as raised:
            driver.node.NodePublishVolume(publish_request(target), timeout=30)
        assert raised.value.code() == grpc.StatusCode.UNKNOWN
        assert re.search(r"err: rpc error: code = ResourceExhausted desc = .*received message "
                         r"larger than max \(\d+ vs\. 1024\)", raised.value.details(), re.I)
        driver.log_match(r"Set --max-call-recv-msg-size to configure larger maximum size")
        assert not os.path.lexists(os.path.join(target, "big"))
    finally:
        assert driver.stop() == 0


@pytest.mark.requires_root
def test_tmpfs_size_follows_max_call_recv_msg_size(setup):
    if os.geteuid() != 0:
        pytest.skip("tmpfs needs root")
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup),
                          "--max-call-recv-msg-size=1048576")
    try:
        target = target_path(setup.kubelet_dir, "sized")
        driver.node.NodePublishVolume(publish_request(target), timeout=30)
        assert mount_points()[os.path.realpath(target)] == "tmpfs"
        options = super_options(target).split(",")
        assert "size=3072k" in options  # 2 x 1 MiB + 1 MiB headroom
        assert "mode=755" in options
    finally:
        assert driver.stop() == 0


def test_metrics_addr_serves_the_upstream_counters(setup):
    flags = [f for f in provider_flags(setup) if not f.startswith("--metrics-addr")]
    driver = start_driver(setup.base, setup.store_path, *flags,
                          "--metrics-addr=127.0.0.1:0")
    try:
        port = driver.log_match(r"metrics served at 127\.0\.0\.1:(\d+)/metrics").group(1)
        target = target_path(setup.kubelet_dir, "metrics")
        driver.node.NodePublishVolume(publish_request(target), timeout=30)
        driver.node.NodeUnpublishVolume(
            csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-m", target_path=target), timeout=10
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        assert 'node_publish_total{os_type="linux",provider="fake"} 1.0' in text
        assert 'node_unpublish_total{os_type="linux"} 1.0' in text
    finally:
        assert driver.stop() == 0
