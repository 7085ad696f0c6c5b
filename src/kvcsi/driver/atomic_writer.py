"""Atomic projection of a set of files into a target directory (the ``..data`` swap).

Upstream counterpart: ``pkg/util/fileutil/atomic_writer.go`` and ``writer.go`` (the design
comes from kubelet's AtomicWriter, used for Secret and ConfigMap volumes). Layout::

    <target>/..data            -> ..2026_05_01_12_00_00.abc123   (symlink, swapped atomically)
    <target>/..2026_05_01_...  real files, dir mode 0755
    <target>/<first>           -> ..data/<first>                 (one per top-level name)

A write validates every path and mode first (nothing is touched when one is refused),
removes non-symlink top-level leftovers of provider-written files, skips the write when the
content and modes are unchanged, otherwise fills a fresh timestamped directory, points
``..data_tmp`` at it and renames that over ``..data``, then prunes stale top-level links.
The previous directory is kept until the next write (which first removes every directory
but the current one, so at most two exist at any time): a reader that resolved ``..data``
just before the swap still finds its files, where upstream and kubelet remove it at once
and such a reader gets ENOENT (seen by the rotation reader test). Names starting with
``..`` are reserved for the writer.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass

from kvcsi.driver.errors import FileWriteFailed
from kvcsi.driver.paths import validate_mode, validate_path

DATA_DIR_NAME = "..data"
NEW_DATA_DIR_NAME = "..data_tmp"
TIMESTAMP_DIR_MODE = 0o755
RESERVED_TS_PREFIX = ".."

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileProjection:
    """One file to project: its bytes and permission bits."""

    data: bytes
    mode: int


def validate_payload(payload: Mapping[str, FileProjection]) -> None:
    """Check every path and mode; raises :class:`~kvcsi.driver.errors.InvalidPayload`."""
    for path, projection in payload.items():
        validate_path(path)
        validate_mode(path, projection.mode)


def write_payload(target_dir: str, payload: Mapping[str, FileProjection]) -> bool:
    """Project ``payload`` into ``target_dir``; returns False when nothing had to change."""
    validate_payload(payload)
    if not os.path.isdir(target_dir):
        raise FileWriteFailed(f"stat {target_dir}: no such file or directory")
    try:
        _remove_provider_written_files(target_dir, payload)
        return _write(target_dir, payload)
    except OSError as error:
        raise FileWriteFailed(_os_error_text(error)) from error


def _os_error_text(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


def _first_component(path: str) -> str:
    return path.split("/", 1)[0]


def _remove_provider_written_files(target_dir: str, payload: Mapping[str, FileProjection]) -> None:
    """Remove top-level entries a legacy provider wrote directly (anything not a symlink)."""
    for first in {_first_component(path) for path in payload}:
        candidate = os.path.join(target_dir, first)
        try:
            info = os.lstat(candidate)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(candidate)
        else:
            os.remove(candidate)


def _write(target_dir: str, payload: Mapping[str, FileProjection]) -> bool:
    data_dir_link = os.path.join(target_dir, DATA_DIR_NAME)
    old_ts_name = _current_data_dir_name(target_dir)
    old_ts_path = os.path.join(target_dir, old_ts_name) if old_ts_name else ""

    paths_to_remove: set[str] = set()
    if old_ts_path:
        paths_to_remove = _paths_to_remove(payload, old_ts_path)
        if not paths_to_remove and not _payload_differs(payload, old_ts_path):
            log.debug("no update required for target directory %s", target_dir)
            return False

    _remove_generations(target_dir, keep=old_ts_name)
    ts_dir = _new_timestamp_dir(target_dir)
    try:
        _write_files(payload, ts_dir)
        _create_user_visible_links(target_dir, payload)
        new_link = os.path.join(target_dir, NEW_DATA_DIR_NAME)
        if os.path.lexists(new_link):
            os.remove(new_link)
        os.symlink(os.path.basename(ts_dir), new_link)
        try:
            os.replace(new_link, data_dir_link)
        except OSError:
            os.remove(new_link)
            raise
    except OSError:
        shutil.rmtree(ts_dir, ignore_errors=True)
        raise

    for path in paths_to_remove:
        if "/" not in path:
            os.remove(os.path.join(target_dir, path))
    return True


def _remove_generations(target_dir: str, keep: str) -> None:
    """Remove the writer's timestamped directories except ``keep`` (the current one)."""
    for name in os.listdir(target_dir):
        if not name.startswith("..") or name in (DATA_DIR_NAME, NEW_DATA_DIR_NAME, keep):
            continue
        path = os.path.join(target_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)


def _current_data_dir_name(target_dir: str) -> str:
    """The timestamped dir ``..data`` points at, or "" when there is none we wrote.

    Anything else (an absolute or multi-component link, a link out of the target, a
    non-directory) is not ours: it is neither compared nor deleted, only replaced.
    """
    try:
        name = os.readlink(os.path.join(target_dir, DATA_DIR_NAME))
    except (FileNotFoundError, OSError):
        return ""
    if "/" in name or not name.startswith(RESERVED_TS_PREFIX) or name in (".", ".."):
        log.warning("ignoring unexpected %s link in %s", DATA_DIR_NAME, target_dir)
        return ""
    candidate = os.path.join(target_dir, name)
    if os.path.islink(candidate) or not os.path.isdir(candidate):
        log.warning("ignoring unexpected %s link in %s", DATA_DIR_NAME, target_dir)
        return ""
    return name


def _paths_to_remove(payload: Mapping[str, FileProjection], old_ts_path: str) -> set[str]:
    """Relative paths present in the old version but not in (or above) the new payload."""
    old_paths: set[str] = set()
    for root, dirs, files in os.walk(old_ts_path):
        for name in dirs + files:
            old_paths.add(os.path.relpath(os.path.join(root, name), old_ts_path))
    new_paths: set[str] = set()
    for path in payload:
        while path:
            new_paths.add(path)
            path = os.path.dirname(path)
    return old_paths - new_paths


def _payload_differs(payload: Mapping[str, FileProjection], old_ts_path: str) -> bool:
    """True unless every file is a regular file inside ``old_ts_path`` with the same bytes
    and mode. Read back without following symlinks: a link (at any level) planted in the
    old version counts as different and is never read through."""
    root = os.path.realpath(old_ts_path)
    for path, projection in payload.items():
        old_file = os.path.join(old_ts_path, path)
        if os.path.realpath(os.path.dirname(old_file)) != os.path.join(
            root, os.path.dirname(path)
        ).rstrip("/"):
            return True  # a directory on the way is a symlink
        try:
            fd = os.open(old_file, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError:  # missing, or a symlink (ELOOP)
            return True
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != projection.mode:
                return True
            if info.st_size != len(projection.data):
                return True
            with os.fdopen(os.dup(fd), "rb") as existing:
                if existing.read() != projection.data:
                    return True
        finally:
            os.close(fd)
    return False


def _new_timestamp_dir(target_dir: str) -> str:
    prefix = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    ts_dir = tempfile.mkdtemp(prefix=prefix, dir=target_dir)
    os.chmod(ts_dir, TIMESTAMP_DIR_MODE)
    return ts_dir


def _write_files(payload: Mapping[str, FileProjection], ts_dir: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for path, projection in payload.items():
        full_path = os.path.join(ts_dir, path)
        os.makedirs(os.path.dirname(full_path), exist_ok=True)
        fd = os.open(full_path, flags, 0o600)
        try:
            view = memoryview(projection.data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            # chmod explicitly so the mode does not depend on the process umask
            os.fchmod(fd, projection.mode)
        finally:
            os.close(fd)


def _create_user_visible_links(target_dir: str, payload: Mapping[str, FileProjection]) -> None:
    for first in sorted({_first_component(path) for path in payload}):
        visible = os.path.join(target_dir, first)
        if not os.path.lexists(visible):
            os.symlink(os.path.join(DATA_DIR_NAME, first), visible)
