"""Process-wide network rules for local mode: loopback-only and ``.localhost`` names.

Two switches, read from the environment when :mod:`kvcsi` is first imported:

``KVCSI_LOOPBACK_ONLY=1``
    Every socket ``connect`` to an address outside 127.0.0.0/8 and ::1 raises
    :class:`LoopbackViolation` (including the real IMDS address 169.254.169.254). When
    ``KVCSI_LOOPBACK_VIOLATIONS`` names a file, each refused attempt is also appended to it,
    so a test suite can fail on attempts made inside child processes.

``KVCSI_RESOLVE_LOCALHOST=1``
    Host names ``localhost`` and ``*.localhost`` resolve to 127.0.0.1 inside this process,
    as RFC 6761 reserves them and as systemd-resolved and curl already do. This is how
    kvcsi's own processes reach ``https://<vault>.vault.localhost:<port>`` without editing
    ``/etc/hosts``; other tools get the same effect from the resolver or hosts entries
    (``kvcsi env`` explains).

Unix-domain sockets are never affected.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from typing import Any

LOOPBACK_ONLY_ENV = "KVCSI_LOOPBACK_ONLY"
VIOLATIONS_FILE_ENV = "KVCSI_LOOPBACK_VIOLATIONS"
RESOLVE_LOCALHOST_ENV = "KVCSI_RESOLVE_LOCALHOST"

_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_getaddrinfo = socket.getaddrinfo
_installed: set[str] = set()


class LoopbackViolation(ConnectionRefusedError):
    """A connection to a non-loopback address was attempted while loopback-only is on."""


def is_local_name(host: str) -> bool:
    """True for ``localhost`` and any name under the reserved ``.localhost`` domain."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _record_violation(address: Any) -> None:
    path = os.environ.get(VIOLATIONS_FILE_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as sink:
            sink.write(f"{time.time():.3f} pid={os.getpid()} refused connect to {address!r}\n")
    except OSError:
        pass


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) else str(address)
    if not is_loopback_address(str(host)):
        _record_violation(address)
        raise LoopbackViolation(
            f"kvcsi loopback-only mode refused a connection to {address!r}: local mode and "
            "tests may only talk to 127.0.0.0/8 or ::1"
        )


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    return _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _original_connect_ex(self, address)


def _local_getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                       flags: int = 0) -> list[Any]:
    if isinstance(host, bytes):
        host_text = host.decode("ascii", "replace")
    else:
        host_text = host
    if isinstance(host_text, str) and is_local_name(host_text) and host_text != "localhost":
        host = "127.0.0.1"
        if family == socket.AF_INET6:
            family = socket.AF_INET
    return _original_getaddrinfo(host, port, family, type, proto, flags)


def install_loopback_only() -> None:
    """Refuse non-loopback TCP/UDP connects in this process (idempotent)."""
    if "loopback" in _installed:
        return
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    _installed.add("loopback")


def install_localhost_resolution() -> None:
    """Resolve ``*.localhost`` to 127.0.0.1 in this process (idempotent)."""
    if "resolve" in _installed:
        return
    socket.getaddrinfo = _local_getaddrinfo  # type: ignore[assignment]
    _installed.add("resolve")


def _enabled(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def apply_from_environment() -> None:
    if _enabled(LOOPBACK_ONLY_ENV):
        install_loopback_only()
    if _enabled(RESOLVE_LOCALHOST_ENV):
        install_localhost_resolution()
