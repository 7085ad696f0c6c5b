"""Finding a provider's socket, keeping one gRPC channel per socket, and the Mount call.

Upstream counterpart: ``pkg/secrets-store/provider_client.go`` (``PluginClientBuilder``,
``MountContent``, ``Version``). Same discovery (``<dir>/<provider>.sock``, the
``--additional-provider-volume-paths`` dirs first, then ``--provider-volume``; first existing
path wins; name must match ``^[a-zA-Z0-9_-]{0,30}$``), same dial behaviour (insecure,
``:authority`` ``localhost``, max receive size, waitForReady with a retry on UNAVAILABLE) and
the same response checks. Differences, on purpose: discovery runs on every call and the
channel is rebuilt when the socket file is replaced (another path, or a new inode after a
provider restart); upstream caches the first connection for the life of the process
(AWS provider issue #461). And a socket file nobody listens on (left behind by a provider
that moved to the other directory) is passed over when a live one exists further down the
list; upstream would keep dialling the dead first match. Not upstream either: the Mount
call's trailing metadata ``kvcsi-warning-bin`` (one UTF-8 warning per entry, sent by the
kvcsi provider on success and failure) is read into ``MountResult.warnings`` or, for a
failed call, :func:`provider_warnings` of the raised error.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc

from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.driver.errors import ProviderCallFailed, ProviderNotFound, go_status_text

API_VERSION = "v1alpha1"
DEFAULT_MAX_CALL_RECV_MSG_SIZE = 4 * 1024 * 1024
SECRET_SYNC_WARN_BYTES = 1024 * 1024
PLUGIN_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{0,30}$")
# Used only when the caller (kubelet) set no deadline, so a dead socket cannot hang forever.
FALLBACK_CALL_TIMEOUT_SECONDS = 120.0
NO_DEADLINE_THRESHOLD_SECONDS = 365 * 24 * 3600.0
# Trailing metadata of a Mount call: one provider warning per entry (docs/provider.md).
WARNING_METADATA_KEY = "kvcsi-warning-bin"
MAX_WARNINGS = 20
MAX_WARNING_CHARS = 512

SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": "v1alpha1.CSIDriverProvider"}],
                "waitForReady": True,
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "1s",
                    "maxBackoff": "10s",
                    "backoffMultiplier": 1.1,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)

log = logging.getLogger(__name__)


@dataclass
class MountResult:
    """A checked Mount response: object versions by id (last wins) and the files to write."""

    object_versions: dict[str, str]
    files: list[provider_pb2.File] = field(default_factory=list)
    warnings: tuple[str, ...] = ()  # from the call's trailing metadata, deduplicated


@dataclass
class _Connection:
    identity: tuple[str, int, int]  # socket path, device, inode
    channel: grpc.Channel
    stub: provider_pb2_grpc.CSIDriverProviderStub


class ProviderClients:
    """Provider name -> socket path -> cached channel; thread safe."""

    def __init__(
        self,
        socket_dirs: Sequence[str],
        max_call_recv_msg_size: int = DEFAULT_MAX_CALL_RECV_MSG_SIZE,
    ) -> None:
        self.socket_dirs = [d for d in socket_dirs if d]
        self.max_call_recv_msg_size = max_call_recv_msg_size
        self._connections: dict[str, _Connection] = {}
        self._lock = threading.Lock()

    def socket_path(self, provider: str) -> str:
        """The first live ``<dir>/<provider>.sock``; raises ProviderNotFound.

        Existing socket files are tried in directory order; one that refuses connections
        (stale) is skipped when a later one accepts. With no live socket the first existing
        path is returned, so the call itself reports the failure.
        """
        if not PLUGIN_NAME_RE.match(provider):
            raise ProviderNotFound(f'invalid provider: provider "{provider}"')
        tried = [os.path.join(d, f"{provider}.sock") for d in self.socket_dirs]
        existing = [candidate for candidate in tried if os.path.exists(candidate)]
        if not existing:
            raise ProviderNotFound(
                f'provider not found: provider "{provider}" (looked for {", ".join(tried)})'
            )
        if len(existing) > 1:
            for candidate in existing:
                if _accepts_connections(candidate) is not False:
                    return candidate
            log.warning("no provider listens on %s", ", ".join(existing))
        return existing[0]

    def stub(self, provider: str) -> provider_pb2_grpc.CSIDriverProviderStub:
        """A stub on the provider's current socket, re-dialled if the socket file changed."""
        path = self.socket_path(provider)
        try:
            info = os.stat(path)
        except FileNotFoundError as error:  # removed between discovery and now
            raise ProviderNotFound(f'provider not found: provider "{provider}"') from error
        identity = (path, info.st_dev, info.st_ino)
        with self._lock:
            connection = self._connections.get(provider)
            if connection is not None and connection.identity == identity:
                return connection.stub
            if connection is not None:
                log.info(
                    "provider %s socket changed (%s -> %s); reconnecting",
                    provider, connection.identity[0], path,
                )
                connection.channel.close()
            channel = grpc.insecure_channel(
                f"unix:{os.path.abspath(path)}",
                options=[
                    ("grpc.default_authority", "localhost"),
                    ("grpc.max_receive_message_length", self.max_call_recv_msg_size),
                    ("grpc.enable_retries", 1),
                    ("grpc.service_config", SERVICE_CONFIG),
                ],
            )
            connection = _Connection(
                identity, channel, provider_pb2_grpc.CSIDriverProviderStub(channel)
            )
            self._connections[provider] = connection
            return connection.stub

    def mount(
        self,
        provider: str,
        *,
        attributes: str,
        secrets: str,
        target_path: str,
        permission: str,
        timeout: float | None,
    ) -> MountResult:
        """Call Mount and check the response (upstream ``MountContent``, without the write)."""
        stub = self.stub(provider)
        request = provider_pb2.MountRequest(
            attributes=attributes,
            secrets=secrets,
            target_path=target_path,
            permission=permission,
        )
        try:
            response, call = stub.Mount.with_call(request, timeout=_timeout(timeout))
        except grpc.RpcError as error:
            failed = _call_failed(error)
            failed.provider_warnings = warnings_from_metadata(_trailing_metadata(error))
            raise failed from None
        warnings = warnings_from_metadata(call.trailing_metadata())
        try:
            result = check_mount_response(response)
        except ProviderCallFailed as error:
            error.provider_warnings = warnings
            raise
        result.warnings = warnings
        return result

    def version(self, provider: str, timeout: float = 5.0) -> str:
        """The provider's ``runtime_version`` (health check)."""
        stub = self.stub(provider)
        try:
            response = stub.Version(
                provider_pb2.VersionRequest(version=API_VERSION), timeout=timeout
            )
        except grpc.RpcError as error:
            raise _call_failed(error) from None
        return response.runtime_version

    def close(self) -> None:
        with self._lock:
            for connection in self._connections.values():
                connection.channel.close()
            self._connections.clear()


def provider_warnings(error: BaseException | None) -> tuple[str, ...]:
    """The warnings the provider sent with a failed Mount call (none for other errors)."""
    return tuple(getattr(error, "provider_warnings", ()))


def warnings_from_metadata(metadata: Sequence[tuple[str, str | bytes]] | None) -> tuple[str, ...]:
    """The ``kvcsi-warning-bin`` entries as text: in order, deduplicated, bounded in number
    and length (the provider is trusted, yet one bad answer must not flood the events)."""
    found: list[str] = []
    for key, value in metadata or ():
        if key != WARNING_METADATA_KEY:
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        text = text.strip()
        if len(text) > MAX_WARNING_CHARS:
            text = text[: MAX_WARNING_CHARS - 3] + "..."
        if text and text not in found:
            found.append(text)
        if len(found) == MAX_WARNINGS:
            break
    return tuple(found)


def _trailing_metadata(error: grpc.RpcError) -> Sequence[tuple[str, str | bytes]] | None:
    trailing = getattr(error, "trailing_metadata", None)
    try:
        return trailing() if callable(trailing) else None
    except Exception:  # noqa: BLE001 - an error without a call behind it
        return None


def _accepts_connections(path: str) -> bool | None:
    """False when nothing listens on the unix socket ``path``; None when it cannot be told."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(0.5)
        probe.connect(path)
    except OSError as error:
        if error.errno in (errno.ECONNREFUSED, errno.ENOTSOCK, errno.ENOENT):
            return False
        return None
    finally:
        probe.close()
    return True


def _timeout(timeout: float | None) -> float:
    # grpc reports "no deadline" as a remaining time of ~9e18 seconds
    if timeout is None or timeout > NO_DEADLINE_THRESHOLD_SECONDS:
        return FALLBACK_CALL_TIMEOUT_SECONDS
    return max(timeout, 0.0)


def _call_failed(error: grpc.RpcError) -> ProviderCallFailed:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and _is_max_recv_msg_size(details or ""):
        log.error(
            "Set --max-call-recv-msg-size to configure larger maximum size in bytes of "
            "gRPC response"
        )
    return ProviderCallFailed(go_status_text(code, details))


def _is_max_recv_msg_size(details: str) -> bool:
    """grpc-go says ``grpc: received message larger than max``; grpc-core capitalises it."""
    lowered = details.lower()
    if "received message larger than max length allowed on current machine" in lowered:
        return False
    return "received message larger than max" in lowered


def check_mount_response(response: provider_pb2.MountResponse) -> MountResult:
    """Upstream's checks, in order: provider error code, object versions, size warning."""
    if response.HasField("error") and response.error.code:
        raise ProviderCallFailed(
            f"mount request failed with provider error code {response.error.code}",
            error_type=response.error.code,
        )
    if not response.object_version:
        raise ProviderCallFailed("missing object versions")
    versions = {item.id: item.version for item in response.object_version}
    size = response.ByteSize()
    if size > SECRET_SYNC_WARN_BYTES:
        log.info("proto above 1MiB, secret sync may fail (size %d)", size)
    return MountResult(object_versions=versions, files=list(response.files))
