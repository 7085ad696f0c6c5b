"""Files of the local cloud's state directory: private keys and atomically replaced JSON.

Everything under ``$KVCSI_HOME/cloud/`` that holds key material is written with mode 0600,
and documents other processes read (``endpoints.json``, ``environment.json``) are replaced
atomically (write a temporary file in the same directory, then rename), so a reader never
sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def cloud_dir(home: Path | str) -> Path:
    """``$KVCSI_HOME/cloud``, created (0700) when missing."""
    path = Path(home) / "cloud"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def write_atomically(path: Path, data: bytes, mode: int = PUBLIC_MODE) -> None:
    """Replace ``path`` with ``data`` in one rename; the file has ``mode`` from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as sink:
            sink.write(data)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def write_private(path: Path, data: bytes) -> None:
    """Write key material: mode 0600, atomically."""
    write_atomically(path, data, PRIVATE_MODE)


def write_json(path: Path, document: dict[str, Any], mode: int = PUBLIC_MODE) -> None:
    write_atomically(path, (json.dumps(document, indent=2) + "\n").encode(), mode)
