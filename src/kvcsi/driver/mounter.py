"""Mounting the volume's backing store at the target path: tmpfs, or a plain directory.

Upstream counterpart: ``k8s.io/mount-utils`` as used by ``nodeserver.go``
(``Mount("tmpfs", target, "tmpfs", nil)``, ``IsLikelyNotMountPoint``, ``CleanupMountPoint``).
Differences, on purpose: the tmpfs gets a ``size=`` limit and ``mode=0755`` (upstream passes
no options, so the tmpfs is unbounded and mode 1777), and without root the driver falls back
to a plain 0700 directory with a warning, judging "mounted" the way upstream does on
Windows (the directory is not empty).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from typing import Protocol

from kvcsi.driver.errors import TargetPathError

MOUNTINFO = "/proc/self/mountinfo"
TMPFS_MODE = "0755"
FALLBACK_DIR_MODE = 0o700

log = logging.getLogger(__name__)


class Mounter(Protocol):
    """What the node service needs from a mounter."""

    def is_mount_point(self, path: str) -> bool:
        """True when ``path`` holds a mounted volume."""
        ...

    def mount(self, path: str) -> None:
        """Mount a fresh, empty volume at the existing directory ``path``."""
        ...

    def unmount(self, path: str) -> None:
        """Undo :meth:`mount`; a path that is not mounted is left alone."""
        ...


def _unescape_mountinfo(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as ``\\ooo``."""
    out: list[str] = []
    i = 0
    while i < len(field):
        digits = field[i + 1 : i + 4]
        if field[i] == "\\" and len(digits) == 3 and digits.isdigit():
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_points(mountinfo: str = MOUNTINFO) -> dict[str, str]:
    """Every mount point of this process's mount namespace -> its filesystem type."""
    points: dict[str, str] = {}
    with open(mountinfo, encoding="utf-8", errors="surrogateescape") as lines:
        for line in lines:
            fields = line.split()
            if len(fields) < 7 or "-" not in fields[6:]:
                continue
            separator = fields.index("-", 6)
            points[_unescape_mountinfo(fields[4])] = fields[separator + 1]
    return points


def is_mount_point(path: str, mountinfo: str = MOUNTINFO) -> bool:
    """True when ``path`` (symlinks resolved) is listed in ``/proc/self/mountinfo``."""
    return os.path.realpath(path) in mount_points(mountinfo)


def filesystem_type(path: str, mountinfo: str = MOUNTINFO) -> str | None:
    """The filesystem type mounted exactly at ``path``, or None."""
    return mount_points(mountinfo).get(os.path.realpath(path))


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise TargetPathError(
            f"mount failed: exit status {result.returncode}\n"
            f"Mounting command: {argv[0]}\nMounting arguments: {' '.join(argv[1:])}\n"
            f"Output: {output}"
        )


class TmpfsMounter:
    """Mounts tmpfs with ``mount -t tmpfs`` (needs root / CAP_SYS_ADMIN)."""

    def __init__(self, size_bytes: int) -> None:
        self.size_bytes = size_bytes

    def is_mount_point(self, path: str) -> bool:
        return is_mount_point(path)

    def mount(self, path: str) -> None:
        options = f"size={self.size_bytes},mode={TMPFS_MODE}"
        _run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path])

    def unmount(self, path: str) -> None:
        if is_mount_point(path):
            _run(["umount", path])


class DirectoryMounter:
    """No mount at all: the target stays a plain 0700 directory on the node's disk."""

    def is_mount_point(self, path: str) -> bool:
        try:
            return bool(os.listdir(path))
        except FileNotFoundError:
            return False

    def mount(self, path: str) -> None:
        log.warning("not running as root: %s is a plain directory on disk, not a tmpfs mount", path)
        os.chmod(path, FALLBACK_DIR_MODE)

    def unmount(self, path: str) -> None:
        try:
            entries = os.listdir(path)
        except FileNotFoundError:
            return
        for name in entries:
            entry = os.path.join(path, name)
            if os.path.isdir(entry) and not os.path.islink(entry):
                shutil.rmtree(entry, ignore_errors=True)
            else:
                os.remove(entry)


def default_mounter(tmpfs_size_bytes: int) -> Mounter:
    """tmpfs as root, otherwise the plain-directory fallback (with a warning)."""
    if os.geteuid() == 0:
        return TmpfsMounter(tmpfs_size_bytes)
    log.warning("not running as root: volumes will be plain directories, not tmpfs")
    return DirectoryMounter()
