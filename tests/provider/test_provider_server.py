"""The gRPC server over a real unix socket, called through the generated stub."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kvcsi import __version__
from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.provider.endpoint import EndpointError, parse_endpoint
from kvcsi.provider.healthz import HealthzServer
from kvcsi.provider.server import CSIDriverProviderServicer, ProviderServer, start_server

Attributes = Callable[..., str]


@pytest.fixture
def socket_path(tmp_path: Path) -> Path:
    return tmp_path / "providers" / "azure.sock"


@pytest.fixture
def running(socket_path: Path, fake_vault: Any) -> Iterator[ProviderServer]:
    server = start_server(f"unix://{socket_path}", CSIDriverProviderServicer(fake_vault))
    yield server
    server.stop(grace=None)


@pytest.fixture
def channel(running: ProviderServer, socket_path: Path) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"unix:{socket_path}",
                               options=[("grpc.default_authority", "localhost")]) as chan:
        yield chan


def test_version(channel: grpc.Channel) -> None:
    reply = provider_pb2_grpc.CSIDriverProviderStub(channel).Version(
        provider_pb2.VersionRequest(version="v1alpha1"), timeout=5)
    assert (reply.version, reply.runtime_name, reply.runtime_version) == (
        "v1alpha1", "secrets-store-csi-driver-provider-azure", __version__)


def test_mount_returns_files_and_versions(channel: grpc.Channel, attributes: Attributes) -> None:
    reply = provider_pb2_grpc.CSIDriverProviderStub(channel).Mount(provider_pb2.MountRequest(
        attributes=attributes(), secrets="null", permission="420",
        target_path="/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/v/mount"), timeout=10)
    assert [(f.path, f.mode, f.contents) for f in reply.files] == [
        ("db-password", 420, b"s3cr3t!")]
    assert [(v.id, v.version) for v in reply.object_version] == [
        ("secret/db-password", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")]
    assert not reply.HasField("error")


def test_mount_error_shape(channel: grpc.Channel, attributes: Attributes) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        provider_pb2_grpc.CSIDriverProviderStub(channel).Mount(provider_pb2.MountRequest(
            attributes=attributes(keyvaultName=""), secrets="null", permission="420"),
            timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert caught.value.details() == \
        "failed to mount objects, error: keyvaultName is not provided"


def test_health_check_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status == \
        health_pb2.HealthCheckResponse.SERVING
    assert stub.Check(health_pb2.HealthCheckRequest(service="v1alpha1.CSIDriverProvider"),
                      timeout=5).status == health_pb2.HealthCheckResponse.SERVING


def test_socket_is_private_and_stale_socket_is_replaced(socket_path: Path,
                                                        fake_vault: Any) -> None:
    socket_path.parent.mkdir(parents=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_path))
    stale.close()
    server = start_server(f"unix://{socket_path}", CSIDriverProviderServicer(fake_vault))
    try:
        mode = os.stat(socket_path).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) & 0o077 == 0
    finally:
        server.stop(grace=None)
    assert not socket_path.exists()


def test_regular_file_at_socket_path_is_not_deleted(socket_path: Path, fake_vault: Any) -> None:
    socket_path.parent.mkdir(parents=True)
    socket_path.write_text("keep me")
    with pytest.raises(EndpointError, match="not a socket"):
        start_server(f"unix://{socket_path}", CSIDriverProviderServicer(fake_vault))
    assert socket_path.read_text() == "keep me"


def test_mount_time_is_bounded_and_names_the_step(socket_path: Path, fake_vault: Any,
                                                  attributes: Attributes) -> None:
    release = threading.Event()
    fake_vault.block = lambda: release.wait(5)
    server = start_server(f"unix://{socket_path}",
                          CSIDriverProviderServicer(fake_vault, mount_timeout=0.3))
    try:
        with grpc.insecure_channel(f"unix:{socket_path}") as chan:
            with pytest.raises(grpc.RpcError) as caught:
                provider_pb2_grpc.CSIDriverProviderStub(chan).Mount(provider_pb2.MountRequest(
                    attributes=attributes(), secrets="null", permission="420"), timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNKNOWN
        assert caught.value.details() == (
            "failed to mount objects, error: mount did not finish within 0.3s while fetching "
            "secret/db-password from https://kvname.vault.azure.net/")
    finally:
        release.set()
        server.stop(grace=None)


@pytest.mark.parametrize(("endpoint", "scheme", "address"), [
    ("unix:///tmp/azure.sock", "unix", "/tmp/azure.sock"),
    ("tcp://127.0.0.1:0", "tcp", "127.0.0.1:0"),
])
def test_parse_endpoint(endpoint: str, scheme: str, address: str) -> None:
    parsed = parse_endpoint(endpoint)
    assert (parsed.scheme, parsed.address) == (scheme, address)


@pytest.mark.parametrize("endpoint", ["/tmp/azure.sock", "http://x", "unix://"])
def test_invalid_endpoint(endpoint: str) -> None:
    with pytest.raises(EndpointError) as caught:
        parse_endpoint(endpoint)
    assert str(caught.value) == f"invalid endpoint: {endpoint}"


def test_tcp_endpoint_and_healthz(fake_vault: Any) -> None:
    server = start_server("tcp://127.0.0.1:0", CSIDriverProviderServicer(fake_vault))
    healthz = HealthzServer(server.target, 0, "/healthz", 2.0, address="127.0.0.1")
    healthz.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{healthz.port}/healthz", timeout=5) as r:
            assert (r.status, r.read()) == (200, b"ok")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{healthz.port}/other", timeout=5)
        assert caught.value.code == 404
    finally:
        healthz.stop()
        server.stop(grace=None)


def test_healthz_reports_unreachable_server(tmp_path: Path) -> None:
    healthz = HealthzServer(f"unix:{tmp_path / 'missing.sock'}", 0, "/healthz", 0.5,
                            address="127.0.0.1")
    healthz.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{healthz.port}/healthz", timeout=5)
        assert caught.value.code == 503
        assert caught.value.read().startswith(b"rpc error: code = ")
    finally:
        healthz.stop()


def test_logs_carry_method_and_status_but_no_secrets(channel: grpc.Channel, attributes: Attributes,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stub = provider_pb2_grpc.CSIDriverProviderStub(channel)
    sp_secrets = json.dumps({"clientid": "sp", "clientsecret": "sp-client-secret-value"})
    stub.Mount(provider_pb2.MountRequest(attributes=attributes(), secrets=sp_secrets,
                                         permission="420"), timeout=10)
    with pytest.raises(grpc.RpcError):
        stub.Mount(provider_pb2.MountRequest(attributes=attributes(tenantID="", tenantId=""),
                                             secrets=sp_secrets, permission="420"), timeout=10)
    text = caplog.text
    assert "grpc method=/v1alpha1.CSIDriverProvider/Mount code=OK" in text
    assert "grpc method=/v1alpha1.CSIDriverProvider/Mount code=Unknown" in text
    assert "mounted 1 files for pod default/app-0 (SecretProviderClass azure-kvname)" in text
    assert "s3cr3t!" not in text and "sp-client-secret-value" not in text
