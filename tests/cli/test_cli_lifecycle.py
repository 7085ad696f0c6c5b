"""kvcsi up / status / down / env as a user runs them, in a throwaway state dir."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.support.kvcsi_cli import Kvcsi


def test_up_status_env_down(tmp_path: Path) -> None:
    kvcsi = Kvcsi(tmp_path / "home")
    stopped = kvcsi.run("status", check=False)
    assert stopped.returncode == 3
    assert "cloud      stopped" in stopped.stdout

    up = kvcsi.run("up", "-d")
    assert "local cloud ready" in up.stdout and "node runtime ready" in up.stdout
    try:
        again = kvcsi.run("up", "-d")
        assert again.stdout.startswith(f"kvcsi is already running in {kvcsi.home}")
        status = kvcsi.run("status")
        assert "cloud      running (pid" in status.stdout
        assert "node       running (pid" in status.stdout
        env = kvcsi.out("env")
        ca = kvcsi.home / "cloud" / "ca.pem"
        assert f"export REQUESTS_CA_BUNDLE={ca}" in env.splitlines()
        assert "# No cluster yet: AZURE_POD_IDENTITY_AUTHORITY_HOST is set once" in env
    finally:
        down = kvcsi.run("down")
    assert down.stdout.strip() == "stopped: node, cloud"
    assert kvcsi.run("down").stdout.strip() == "stopped: nothing was running"
    assert not (kvcsi.home / "cloud" / "endpoints.json").exists()


def test_env_without_a_running_cloud_says_how_to_start_it(tmp_path: Path) -> None:
    done = Kvcsi(tmp_path / "home").run("env", check=False)
    assert done.returncode == 1
    assert "the local cloud is not running" in done.stderr
    assert "kvcsi up -d" in done.stderr


def test_a_taken_port_is_named_with_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = Kvcsi(tmp_path / "home").run("up", "-d", "--https-port", str(port), check=False)
    assert done.returncode == 1
    assert "error: cloud exited with status 1 while starting" in done.stderr
    assert f"cannot listen on 127.0.0.1 port {port} (HTTPS)" in done.stderr
    assert "KVCSI_HTTPS_PORT" in done.stderr


def test_az_without_a_running_cloud(tmp_path: Path) -> None:
    done = Kvcsi(tmp_path / "home").run("az", "account", "show", check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("ERROR: the local cloud is not running")


def test_kubectl_without_a_cluster(tmp_path: Path) -> None:
    done = Kvcsi(tmp_path / "home").run("kubectl", "get", "pods", check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: no cluster selected")
