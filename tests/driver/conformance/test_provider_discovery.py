"""Provider discovery and reconnection, with the real driver process and a fake provider.

Upstream caches one connection per provider for the life of the driver; here a provider that
restarts, moves its socket from the old directory to the new one, or starts after the
driver is found on the next publish with no driver restart.
"""

from __future__ import annotations

import os
import time

import grpc
import pytest

from ..harness import FakeProvider
from .conftest import provider_flags
from .driver_process import POD_NAME, publish_request, start_driver, target_path


def read(target: str, name: str = "username") -> bytes:
    with open(os.path.join(target, name), "rb") as mounted:
        return mounted.read()


def test_provider_moving_from_the_old_to_the_new_directory_is_followed(setup):
    setup.serve_provider(setup.extra_provider_dir)  # the old /etc/kubernetes/... location
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup))
    try:
        first = target_path(setup.kubelet_dir, "first")
        driver.node.NodePublishVolume(publish_request(first), timeout=30)
        assert read(first) == b"admin"

        setup.stop_provider(leave_stale_socket=True)  # old socket file stays, dead
        moved = FakeProvider(files=[("username", 0o644, b"from-new-dir")])
        setup.serve_provider(setup.provider_dir, moved)
        assert os.path.exists(os.path.join(setup.extra_provider_dir, "fake.sock"))

        second = target_path(setup.kubelet_dir, "second")
        driver.node.NodePublishVolume(publish_request(second), timeout=30)
        assert read(second) == b"from-new-dir"
        assert len(moved.requests) == 1
        driver.log_match(
            rf"provider fake socket changed \({setup.extra_provider_dir}/fake.sock -> "
            rf"{setup.provider_dir}/fake.sock\); reconnecting"
        )
    finally:
        assert driver.stop() == 0


def test_provider_restart_on_the_same_path_is_followed(setup):
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup))
    try:
        first = target_path(setup.kubelet_dir, "first")
        driver.node.NodePublishVolume(publish_request(first), timeout=30)
        restarted = FakeProvider(files=[("username", 0o644, b"restarted")])
        setup.serve_provider(setup.provider_dir, restarted)  # new socket inode, same path
        second = target_path(setup.kubelet_dir, "second")
        driver.node.NodePublishVolume(publish_request(second), timeout=30)
        assert read(second) == b"restarted"
        assert read(first) == b"admin"  # the existing mount keeps its files
    finally:
        assert driver.stop() == 0


def test_provider_started_after_the_driver_is_found_on_retry(setup):
    setup.stop_provider(leave_stale_socket=False)
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup))
    try:
        target = target_path(setup.kubelet_dir, "late")
        with pytest.raises(grpc.RpcError) as raised:
            driver.node.NodePublishVolume(publish_request(target), timeout=30)
        assert raised.value.details() == (
            f"failed to mount secrets store objects for pod default/{POD_NAME}, err: error "
            'connecting to provider "fake": provider not found: provider "fake" (looked for '
            f"{setup.extra_provider_dir}/fake.sock, {setup.provider_dir}/fake.sock)"
        )
        setup.serve_provider(setup.provider_dir)
        driver.node.NodePublishVolume(publish_request(target), timeout=30)  # kubelet's retry
        assert read(target) == b"admin"
    finally:
        assert driver.stop() == 0


def test_a_dead_socket_alone_fails_the_call_and_the_mount_is_undone(setup):
    setup.stop_provider(leave_stale_socket=True)  # only a dead socket file is left
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup))
    try:
        target = target_path(setup.kubelet_dir, "dead")
        with pytest.raises(grpc.RpcError) as raised:
            driver.node.NodePublishVolume(publish_request(target), timeout=1.5)
        # waitForReady (as upstream): the call waits for the provider until kubelet's
        # deadline, then the driver cleans up what it mounted for this attempt
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        deadline = time.monotonic() + 10
        while os.path.ismount(target) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.ismount(target)
        driver.log_match(r"unmounting .*dead/mount as node publish volume failed")
    finally:
        assert driver.stop() == 0
