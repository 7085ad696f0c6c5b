"""Short aliases for unix socket paths that do not fit ``sun_path`` (107 bytes).

The contract's socket paths (``$KVCSI_HOME/clusters/<c>/nodes/<node>/plugins/
csi-secrets-store/csi.sock``) exceed the limit under an ordinary home directory. A socket
directory that is too deep gets a symlink ``/tmp/kvcsi-sockets-<uid>/<hash>`` pointing at it;
binding or dialing ``<alias>/<name>.sock`` then creates or reaches the socket file in the real
directory, since the kernel resolves the symlink. Short paths are used unchanged.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes including the NUL; keep a margin


def alias_root() -> Path:
    return Path(tempfile.gettempdir()) / f"kvcsi-sockets-{os.geteuid()}"


def short_dir(directory: Path, longest_name: str = "csi.sock") -> Path:
    """``directory``, or a short symlink to it when ``directory/longest_name`` is too long.

    The directory is created when missing (a socket needs it, and an alias to a missing
    directory would count as dangling).
    """
    directory = Path(directory)
    if len(str(directory / longest_name)) <= MAX_SOCKET_PATH:
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    root = alias_root()
    root.mkdir(mode=0o700, exist_ok=True)
    link = root / hashlib.sha256(str(directory).encode()).hexdigest()[:20]
    if not link.is_symlink() or os.readlink(link) != str(directory):
        prune_dangling(root)
        temporary = root / f"{link.name}.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(directory, target_is_directory=True)
        temporary.replace(link)
    return link


def short_socket(socket: Path) -> Path:
    """A path to ``socket`` short enough to bind or connect."""
    socket = Path(socket)
    return short_dir(socket.parent, socket.name) / socket.name


def prune_dangling(root: Path | None = None) -> None:
    """Remove aliases whose directory no longer exists (a deleted state dir)."""
    root = root or alias_root()
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_symlink() and not entry.exists():
            entry.unlink(missing_ok=True)
