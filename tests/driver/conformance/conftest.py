"""Fixtures: one driver process per module with a fake provider, on real unix sockets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest

from kvcsi.driver.mounter import mount_points

from ..harness import FakeProvider, serve_provider, short_tmpdir
from .driver_process import DriverProcess, make_store, start_driver


@dataclass
class DriverSetup:
    base: str
    store_path: str
    provider_dir: str
    extra_provider_dir: str
    kubelet_dir: str
    provider: FakeProvider
    server: grpc.Server | None = field(default=None, repr=False)
    socket_path: str = ""

    def serve_provider(self, directory: str, provider: FakeProvider | None = None) -> str:
        """(Re)start the fake provider on ``<directory>/fake.sock``; returns the path."""
        self.stop_provider(leave_stale_socket=False)
        if provider is not None:
            self.provider = provider
        path = os.path.join(directory, "fake.sock")
        if os.path.lexists(path):
            os.remove(path)
        self.server = serve_provider(self.provider, path)
        self.socket_path = path
        return path

    def stop_provider(self, leave_stale_socket: bool) -> None:
        """Stop serving; with ``leave_stale_socket`` a dead socket file stays behind, as
        after a provider pod that was killed."""
        if self.server is None:
            return
        self.server.stop(None).wait()
        self.server = None
        if not leave_stale_socket:
            return
        if os.path.lexists(self.socket_path):
            os.remove(self.socket_path)
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(self.socket_path)
        stale.close()


def unmount_below(directory: str) -> None:
    """Unmount whatever a root test left mounted below ``directory``."""
    if os.geteuid() != 0:
        return
    root = os.path.realpath(directory) + "/"
    for point in sorted(mount_points(), reverse=True):
        if point.startswith(root):
            subprocess.run(["umount", point], check=False)


def new_setup() -> Iterator[DriverSetup]:
    base = short_tmpdir()
    setup = DriverSetup(
        base=base,
        store_path=make_store(os.path.join(base, "store.db")),
        provider_dir=os.path.join(base, "p"),
        extra_provider_dir=os.path.join(base, "e"),
        kubelet_dir=os.path.join(base, "kubelet"),
        provider=FakeProvider(files=[("username", 0o644, b"admin")]),
    )
    for directory in (setup.provider_dir, setup.extra_provider_dir, setup.kubelet_dir):
        os.makedirs(directory)
    setup.serve_provider(setup.provider_dir)
    try:
        yield setup
    finally:
        setup.stop_provider(leave_stale_socket=False)
        unmount_below(setup.kubelet_dir)
        shutil.rmtree(base, ignore_errors=True)


def provider_flags(setup: DriverSetup) -> list[str]:
    return [
        f"--provider-volume={setup.provider_dir}",
        f"--additional-provider-volume-paths={setup.extra_provider_dir}",
        "--metrics-addr=0",
        "--nodeid=node-conformance",
    ]


@pytest.fixture
def setup() -> Iterator[DriverSetup]:
    yield from new_setup()


@pytest.fixture(scope="module")
def module_setup() -> Iterator[DriverSetup]:
    yield from new_setup()


@pytest.fixture(scope="module")
def csi_driver(module_setup: DriverSetup) -> Iterator[DriverProcess]:
    """One driver process for a whole module (rotation off, default flags otherwise)."""
    driver = start_driver(module_setup.base, module_setup.store_path,
                          *provider_flags(module_setup))
    yield driver
    assert driver.stop() == 0, driver.log()
