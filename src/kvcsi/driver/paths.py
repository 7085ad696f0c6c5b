"""Validation of the relative paths and modes a provider returns in ``MountResponse.files``.

Upstream counterpart: ``validatePath`` in ``pkg/util/fileutil/atomic_writer.go`` (vendored
from kubelet) plus the ``filepath.Clean`` check in ``fileutil.Validate``. The error texts are
the upstream ones. Two checks are additions (see the reference notes §5.3): the mode must be
within 0..0o777 (upstream does not range-check it, so a negative int32 could set
setuid/setgid/sticky bits), and ``.`` and NUL bytes are refused up front instead of failing
later in the write.
"""

from __future__ import annotations

import json
import posixpath

from kvcsi.driver.errors import InvalidPayload

MAX_PATH_LENGTH = 4096
MAX_FILE_NAME_LENGTH = 255
MAX_MODE = 0o777
RESERVED_PREFIX = ".."


def go_quote(text: str) -> str:
    """A close stand-in for Go's ``%q`` (double-quoted, escaped)."""
    return json.dumps(text, ensure_ascii=False)


def validate_path(path: str) -> None:
    """Raise :class:`InvalidPayload` unless ``path`` is a safe path relative to the target."""
    if path == "":
        raise InvalidPayload(f"invalid path: must not be empty: {go_quote(path)}")
    if path.startswith("/"):
        raise InvalidPayload(f"invalid path: must be relative path: {path}")
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidPayload(
            f"invalid path: must be less than or equal to {MAX_PATH_LENGTH} characters"
        )
    if "\x00" in path:
        raise InvalidPayload(f"invalid path: must not contain NUL: {go_quote(path)}")
    components = path.split("/")
    for component in components:
        if component == "..":
            raise InvalidPayload(f"invalid path: must not contain '..': {path}")
        if len(component) > MAX_FILE_NAME_LENGTH:
            raise InvalidPayload(
                "invalid path: filenames must be less than or equal to "
                f"{MAX_FILE_NAME_LENGTH} characters"
            )
    if components[0].startswith(RESERVED_PREFIX) and len(components[0]) > 2:
        raise InvalidPayload(f"invalid path: must not start with '..': {path}")
    # posixpath.normpath equals Go's filepath.Clean for the relative paths that reach here.
    if posixpath.normpath(path) != path:
        raise InvalidPayload(f"invalid filepath: {go_quote(path)}")
    if path == ".":
        raise InvalidPayload(f"invalid path: must name a file: {go_quote(path)}")


def validate_mode(path: str, mode: int) -> None:
    """Raise :class:`InvalidPayload` unless ``mode`` is plain permission bits (0..0o777)."""
    if not 0 <= mode <= MAX_MODE:
        raise InvalidPayload(
            f"invalid file mode for {go_quote(path)}: {mode} is outside 0..{MAX_MODE} (0o777)"
        )
