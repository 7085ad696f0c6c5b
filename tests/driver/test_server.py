"""Endpoint parsing, stale sockets, and the sanitising log interceptor (CVE-2023-2878)."""

from __future__ import annotations

import json
import logging
import os
import socket

import pytest

from kvcsi._proto import csi_pb2
from kvcsi.driver.server import Endpoint, parse_endpoint, remove_stale_socket, sanitize

TOKENS = (
    '{"api://AzureADTokenExchange":{"token":"eyJhbGciOi.secret-token","expirationTimestamp":"x"}}'
)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("unix://tmp/csi.sock", Endpoint("unix", "/tmp/csi.sock")),
        ("unix:///csi/csi.sock", Endpoint("unix", "/csi/csi.sock")),
        ("UNIX:///csi/csi.sock", Endpoint("unix", "/csi/csi.sock")),
        ("tcp://127.0.0.1:10000", Endpoint("tcp", "127.0.0.1:10000")),
    ],
)
def test_parse_endpoint(endpoint, expected):
    assert parse_endpoint(endpoint) == expected


@pytest.mark.parametrize("endpoint", ["/tmp/csi.sock", "http://x", "unix://", "tcp:/x"])
def test_invalid_endpoint(endpoint):
    with pytest.raises(ValueError) as raised:
        parse_endpoint(endpoint)
    assert str(raised.value) == f"Invalid endpoint: {endpoint}"


def test_stale_socket_is_removed_but_a_regular_file_is_not(tmp_path):
    path = str(tmp_path / "csi.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.close()
    remove_stale_socket(path)
    assert not os.path.exists(path)

    regular = tmp_path / "not-a-socket"
    regular.write_text("data")
    with pytest.raises(ValueError):
        remove_stale_socket(str(regular))
    assert regular.read_text() == "data"


def test_sanitize_strips_secrets_and_masks_tokens():
    request = csi_pb2.NodePublishVolumeRequest(
        volume_id="v",
        secrets={"clientsecret": "s3cr3t"},
        volume_context={
            "secretProviderClass": "spc",
            "csi.storage.k8s.io/serviceAccount.tokens": TOKENS,
        },
    )
    text = sanitize(request)
    assert json.loads(text) == {
        "volume_id": "v",
        "secrets": "***stripped***",
        "volume_context": {
            "secretProviderClass": "spc",
            "csi.storage.k8s.io/serviceAccount.tokens": "***masked***",
        },
    }
    assert "s3cr3t" not in text and "secret-token" not in text


def test_debug_logs_of_a_publish_never_carry_secrets_or_tokens(driver, caplog):
    caplog.set_level(logging.DEBUG, logger="kvcsi")
    request = driver.publish_request(
        secrets={"clientsecret": "s3cr3t"},
        volume_context_extra={"csi.storage.k8s.io/serviceAccount.tokens": TOKENS},
    )
    driver.node.NodePublishVolume(request)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GRPC request:" in logged and "***masked***" in logged
    assert "s3cr3t" not in logged and "secret-token" not in logged
