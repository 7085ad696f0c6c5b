"""kubelet's CSI client: the calls it makes to a node plugin over its unix socket.

Counterpart: ``pkg/volume/csi/csi_client.go`` in kubelet. Requests carry exactly what kubelet
sends for an ephemeral inline volume (see :mod:`kvcsi.node.volumes`); failures are raised as
:class:`CSICallError` whose text is the Go gRPC status text kubelet puts into events:
``rpc error: code = <Code> desc = <message>``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.node.socket_paths import short_socket

PUBLISH_TIMEOUT_SECONDS = 120.0  # kubelet's csiTimeout is 2 minutes
PROBE_TIMEOUT_SECONDS = 2.0

# Go's codes.Code String() spellings (note "Canceled" with one l).
GO_CODE_NAMES: Mapping[grpc.StatusCode, str] = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}


class CSICallError(Exception):
    """A failed CSI call; ``str()`` is Go's ``rpc error: code = X desc = Y``."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        self.details = details
        super().__init__(f"rpc error: code = {GO_CODE_NAMES.get(code, code.name)} desc = {details}")


@dataclass(frozen=True)
class PublishRequest:
    """The fields of one NodePublishVolume call (kept plain so tests can compare them)."""

    volume_id: str
    target_path: str
    readonly: bool
    volume_context: Mapping[str, str]
    secrets: Mapping[str, str]
    fs_type: str = ""


@contextlib.contextmanager
def _channel(socket: Path) -> Iterator[grpc.Channel]:
    channel = grpc.insecure_channel(f"unix://{short_socket(socket)}",
                                    options=[("grpc.default_authority", "localhost")])
    try:
        yield channel
    finally:
        channel.close()


def _call(method: object, request: object, timeout: float) -> object:
    try:
        return method(request, timeout=timeout)  # type: ignore[operator]
    except grpc.RpcError as error:
        raise CSICallError(error.code(), error.details() or "") from None


def plugin_name(socket: Path, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """``GetPluginInfo().name`` of the plugin on ``socket``; None when nothing answers."""
    if not socket.exists():
        return None
    with _channel(socket) as channel:
        try:
            response = _call(csi_pb2_grpc.IdentityStub(channel).GetPluginInfo,
                             csi_pb2.GetPluginInfoRequest(), timeout)
        except CSICallError:
            return None
    return response.name or None  # type: ignore[attr-defined]


def node_id(socket: Path, timeout: float = PROBE_TIMEOUT_SECONDS) -> str:
    """``NodeGetInfo().node_id`` (what kubelet records in CSINode)."""
    with _channel(socket) as channel:
        response = _call(csi_pb2_grpc.NodeStub(channel).NodeGetInfo,
                         csi_pb2.NodeGetInfoRequest(), timeout)
    return response.node_id  # type: ignore[attr-defined]


def _supports_single_node_multi_writer(stub: csi_pb2_grpc.NodeStub, timeout: float) -> bool:
    response = _call(stub.NodeGetCapabilities, csi_pb2.NodeGetCapabilitiesRequest(), timeout)
    wanted = csi_pb2.NodeServiceCapability.RPC.SINGLE_NODE_MULTI_WRITER
    return any(cap.rpc.type == wanted for cap in response.capabilities)  # type: ignore[attr-defined]


def node_publish(socket: Path, request: PublishRequest,
                 timeout: float = PUBLISH_TIMEOUT_SECONDS) -> None:
    """NodePublishVolume as kubelet sends it for an inline volume.

    Access mode: the pod's inline volume is ReadWriteOnce, which kubelet maps to
    SINGLE_NODE_WRITER, or SINGLE_NODE_MULTI_WRITER when the plugin advertises that node
    capability (it asks NodeGetCapabilities first, as kubelet does).
    """
    access = csi_pb2.VolumeCapability.AccessMode
    with _channel(socket) as channel:
        stub = csi_pb2_grpc.NodeStub(channel)
        multi_writer = _supports_single_node_multi_writer(stub, timeout)
        mode = access.SINGLE_NODE_MULTI_WRITER if multi_writer else access.SINGLE_NODE_WRITER
        message = csi_pb2.NodePublishVolumeRequest(
            volume_id=request.volume_id,
            target_path=request.target_path,
            readonly=request.readonly,
            volume_capability=csi_pb2.VolumeCapability(
                mount=csi_pb2.VolumeCapability.MountVolume(fs_type=request.fs_type),
                access_mode=access(mode=mode),
            ),
            secrets=dict(request.secrets),
            volume_context=dict(request.volume_context),
        )
        _call(stub.NodePublishVolume, message, timeout)


def node_unpublish(socket: Path, volume_id: str, target_path: str,
                   timeout: float = PUBLISH_TIMEOUT_SECONDS) -> None:
    """NodeUnpublishVolume(volume_id, target_path)."""
    with _channel(socket) as channel:
        _call(csi_pb2_grpc.NodeStub(channel).NodeUnpublishVolume,
              csi_pb2.NodeUnpublishVolumeRequest(volume_id=volume_id, target_path=target_path),
              timeout)
