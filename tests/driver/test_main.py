"""Flags of ``secrets-store-csi-driver`` and a full serve loop on a unix socket."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time

import grpc
import pytest

import kvcsi
from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.driver.durations import parse_duration
from kvcsi.driver.main import build_parser, main, normalise_go_flags, run
from kvcsi.driver.metrics import parse_metrics_addr

from .harness import FakeClusterStore, short_tmpdir


def parse(*argv: str):
    return build_parser().parse_args(normalise_go_flags(argv))


def test_upstream_defaults():
    args = parse()
    assert args.endpoint == "unix://tmp/csi.sock"
    assert args.drivername == "secrets-store.csi.k8s.io"
    assert args.nodeid == ""
    assert args.provider_volume == "/var/run/secrets-store-csi-providers"
    assert args.additional_provider_volume_paths == "/etc/kubernetes/secrets-store-csi-providers"
    assert args.enable_secret_rotation is False
    assert args.rotation_poll_interval == 120.0
    assert args.max_call_recv_msg_size == 4194304
    assert args.metrics_addr == ":8095"
    assert args.log_format_json is False
    assert args.verbosity == 0


def test_go_style_flags():
    args = parse(
        "-endpoint=unix:///csi/csi.sock",
        "--nodeid=node-a",
        "--enable-secret-rotation=true",
        "--rotation-poll-interval=1m30s",
        "-v=5",
        "--log-format-json",
        "--provider-health-check=false",
    )
    assert args.endpoint == "unix:///csi/csi.sock"
    assert args.nodeid == "node-a"
    assert args.enable_secret_rotation is True
    assert args.rotation_poll_interval == 90.0
    assert args.verbosity == 5
    assert args.log_format_json is True
    assert args.provider_health_check is False


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2m", 120.0), ("0", 0.0), ("1h30m", 5400.0), ("1.5s", 1.5), ("500ms", 0.5), ("-2s", -2.0)],
)
def test_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5", 'time: missing unit in duration "5"'),
        ("2x", 'time: invalid duration "2x"'),
        ("", 'time: invalid duration ""'),
    ],
)
def test_bad_durations(text, message):
    with pytest.raises(ValueError) as raised:
        parse_duration(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("addr", "parsed"),
    [("", None), ("0", None), (":8095", ("", 8095)), ("127.0.0.1:0", ("127.0.0.1", 0))],
)
def test_metrics_addr(addr, parsed):
    assert parse_metrics_addr(addr) == parsed


def test_version_flag_through_python_m():
    result = subprocess.run(
        [sys.executable, "-m", "kvcsi.driver", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "BuildVersion": kvcsi.__version__,
        "Implementation": "kvcsi",
    }


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("kvcsi").level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("kvcsi").setLevel(saved[2])


def test_missing_cluster_store_exits_with_an_error(monkeypatch, capsys, restore_logging):
    monkeypatch.delenv("KVCSI_CLUSTER_STORE", raising=False)
    base = short_tmpdir()
    assert main([f"--endpoint=unix://{base}/csi.sock", "--metrics-addr=0"]) == 1
    assert "cannot open the cluster store: no cluster" in capsys.readouterr().err
    os.rmdir(base)


def test_run_serves_identity_and_node_until_stopped():
    base = short_tmpdir()
    socket_path = os.path.join(base, "csi.sock")
    args = parse(
        f"--endpoint=unix://{socket_path}",
        "--nodeid=node-a",
        "--metrics-addr=0",
        f"--provider-volume={base}/providers",
        f"--additional-provider-volume-paths={base}/etc",
    )
    stop = threading.Event()
    outcome: list[int] = []
    thread = threading.Thread(target=lambda: outcome.append(run(args, FakeClusterStore(), stop)))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(socket_path) and time.monotonic() < deadline:
            time.sleep(0.02)
        with grpc.insecure_channel(f"unix:{socket_path}") as channel:
            info = csi_pb2_grpc.IdentityStub(channel).GetPluginInfo(
                csi_pb2.GetPluginInfoRequest(), timeout=5
            )
            node = csi_pb2_grpc.NodeStub(channel).NodeGetInfo(
                csi_pb2.NodeGetInfoRequest(), timeout=5
            )
        assert (info.name, info.vendor_version, node.node_id) == (
            "secrets-store.csi.k8s.io",
            kvcsi.__version__,
            "node-a",
        )
    finally:
        stop.set()
        thread.join(timeout=15)
    assert outcome == [0]
    assert not os.path.exists(socket_path)  # grpc removes its unix socket on stop
    os.rmdir(base)
