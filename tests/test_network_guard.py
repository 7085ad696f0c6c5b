"""The suite's loopback-only guard refuses real IMDS and public addresses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from kvcsi.netrules import LoopbackViolation


@pytest.mark.parametrize("address", [("169.254.169.254", 80), ("20.190.160.1", 443)])
def test_non_loopback_connect_is_refused_in_process(
    address: tuple[str, int], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Record this deliberate attempt apart from the suite-wide violations file.
    monkeypatch.setenv("KVCSI_LOOPBACK_VIOLATIONS", str(tmp_path / "expected.log"))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(LoopbackViolation, match="refused a connection to"):
            sock.connect(address)
    assert f"refused connect to {address!r}" in (tmp_path / "expected.log").read_text()


def test_child_processes_inherit_the_guard(tmp_path) -> None:
    log = tmp_path / "violations.log"
    env = dict(os.environ, KVCSI_LOOPBACK_VIOLATIONS=str(log))
    code = (
        "import socket, kvcsi\n"
        "s = socket.socket()\n"
        "try:\n"
        "    s.connect(('169.254.169.254', 80))\n"
        "except ConnectionRefusedError as e:\n"
        "    print(type(e).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "LoopbackViolation"
    assert "169.254.169.254" in log.read_text()


def test_loopback_and_localhost_names_still_work() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("myvault.vault.localhost", port), timeout=2):
            pass
