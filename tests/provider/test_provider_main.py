"""The ``secrets-store-csi-driver-provider-azure`` process: flags, startup errors, shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

from kvcsi import __version__
from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.provider.main import build_parser, go_duration


def run_provider(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kvcsi.provider", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_flag_defaults_match_upstream() -> None:
    args = build_parser().parse_args([])
    assert (args.endpoint, args.cloud_name, args.construct_pem_chain,
            args.write_cert_and_key_in_separate_files, args.healthz_port, args.healthz_path,
            args.healthz_timeout, args.metrics_backend, args.prometheus_port,
            args.log_format_json, args.verbosity) == (
        "unix:///tmp/azure.sock", "AzurePublicCloud", True, False, 8989, "/healthz", 5.0,
        "Prometheus", 8898, False, 0)


def test_go_style_flag_spellings() -> None:
    args = build_parser().parse_args([
        "--construct-pem-chain=false", "--write-cert-and-key-in-separate-files",
        "--healthz-timeout=1m30s", "-v=5", "--log-format-json=true", "--prometheus-port=0"])
    assert (args.construct_pem_chain, args.write_cert_and_key_in_separate_files,
            args.healthz_timeout, args.verbosity, args.log_format_json,
            args.prometheus_port) == (False, True, 90.0, 5, True, 0)
    assert go_duration("500ms") == 0.5


def test_version_prints_json() -> None:
    result = run_provider("--version")
    assert result.returncode == 0
    assert json.loads(result.stdout)["version"] == __version__


@pytest.mark.parametrize(("args", "message"), [
    (["--endpoint", "/tmp/azure.sock"], "invalid endpoint: /tmp/azure.sock"),
    (["--cloud-name", "MarsCloud"], 'There is no cloud environment matching the name '
                                    '"MARSCLOUD"'),
    (["--metrics-backend", "statsd"], "unsupported metrics backend statsd"),
])
def test_startup_errors_exit_1(args: list[str], message: str) -> None:
    result = run_provider(*args, "--healthz-port", "0", "--prometheus-port", "0")
    assert result.returncode == 1
    assert message in result.stderr


def test_serves_on_unix_socket_and_stops_on_sigterm(tmp_path: Path) -> None:
    socket_path = tmp_path / "providers" / "azure.sock"
    process = subprocess.Popen(
        [sys.executable, "-m", "kvcsi.provider", f"--endpoint=unix://{socket_path}",
         "--cloud-name=AzureStackCloud", "--healthz-port=0", "--prometheus-port=0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 15
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with grpc.insecure_channel(f"unix:{socket_path}") as channel:
            reply = provider_pb2_grpc.CSIDriverProviderStub(channel).Version(
                provider_pb2.VersionRequest(version="v1alpha1"), timeout=10)
        assert reply.runtime_name == "secrets-store-csi-driver-provider-azure"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert not socket_path.exists()
