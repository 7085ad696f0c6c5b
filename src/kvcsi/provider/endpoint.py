"""The ``--endpoint`` flag: where the provider's gRPC server listens.

Upstream counterpart: ``pkg/utils/grpc.go`` (``ParseEndpoint``) and the socket handling of
``cmd/main.go``: only ``unix://`` and ``tcp://`` are accepted (``invalid endpoint: <ep>``);
a stale unix socket is removed first and the socket is created under umask 0077 so only
its owner can connect.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

SOCKET_UMASK = 0o077


class EndpointError(ValueError):
    """The endpoint is malformed; ``str()`` is upstream's text."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str  # "unix" or "tcp"
    address: str  # socket path, or host:port

    @property
    def grpc_target(self) -> str:
        """The address for ``grpc.server.add_insecure_port`` / ``grpc.insecure_channel``."""
        return f"unix:{self.address}" if self.scheme == "unix" else self.address


def parse_endpoint(endpoint: str) -> Endpoint:
    """Split ``unix:///path`` or ``tcp://host:port``."""
    lowered = endpoint.lower()
    for scheme in ("unix", "tcp"):
        prefix = f"{scheme}://"
        if lowered.startswith(prefix) and len(endpoint) > len(prefix):
            return Endpoint(scheme, endpoint[len(prefix):])
    raise EndpointError(f"invalid endpoint: {endpoint}")


def remove_stale_socket(path: str) -> None:
    """Remove a leftover socket file at ``path``; refuse to delete anything else."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise EndpointError(f"failed to remove {path}: not a socket")
    os.unlink(path)
