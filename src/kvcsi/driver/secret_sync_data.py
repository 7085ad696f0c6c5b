"""What a synced Secret holds: the mounted files a ``secretObjects`` entry names, as data.

Upstream counterpart: ``pkg/util/fileutil/filesystem.go`` (``GetMountedFiles``) and
``pkg/util/secretutil`` (``ValidateSecretObject``, ``GetSecretType``, ``GetSecretData``,
``GetCertPart``); reference notes §4.2. Same texts (``secret name is empty``, ``file matching
objectName X not found in the pod``, ...), with two changes: a missing file's error lists the
files that are present (case BB-12: the entry must name the *alias*, i.e. the file), and a
top-level link is resolved and must stay inside the volume (upstream follows it blindly).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kvcsi.driver.secret_sync_tls import TLS_TYPE, tls_part

OPAQUE = "Opaque"


class SecretDataError(Exception):
    """A ``secretObjects`` entry that cannot be turned into Secret data; str() is upstream's."""


@dataclass(frozen=True)
class SecretObjectSpec:
    """One ``spec.secretObjects[]`` entry, trimmed as upstream trims it."""

    secret_name: str
    type: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    data: tuple[tuple[str, str], ...]  # (objectName, key)

    @classmethod
    def from_spc_entry(cls, entry: Mapping[str, Any]) -> SecretObjectSpec:
        data = tuple(
            (str(item.get("objectName") or "").strip(), str(item.get("key") or "").strip())
            for item in entry.get("data") or []
        )
        return cls(
            secret_name=str(entry.get("secretName") or "").strip(),
            type=str(entry.get("type") or "").strip(),
            labels={str(k): str(v) for k, v in (entry.get("labels") or {}).items()},
            annotations={str(k): str(v) for k, v in (entry.get("annotations") or {}).items()},
            data=data,
        )

    def validate(self) -> None:
        if not self.secret_name:
            raise SecretDataError("secret name is empty")
        if not self.type:
            raise SecretDataError("secret type is empty")
        if not self.data:
            raise SecretDataError("data is empty")

    @property
    def secret_type(self) -> str:
        return self.type or OPAQUE


def secret_objects_of(spc: Mapping[str, Any]) -> list[SecretObjectSpec]:
    entries = (spc.get("spec") or {}).get("secretObjects") or []
    return [SecretObjectSpec.from_spc_entry(entry) for entry in entries]


def mounted_files(target: str) -> dict[str, str]:
    """Relative path -> absolute file for the volume's visible top-level entries.

    Names starting with ``..`` (the writer's own) are skipped; directories are walked; every
    resolved path must stay inside ``target``.
    """
    root = os.path.realpath(target)
    files: dict[str, str] = {}
    for name in sorted(os.listdir(target)):
        if name.startswith(".."):
            continue
        resolved = os.path.realpath(os.path.join(target, name))
        if not _inside(resolved, root):
            continue
        if os.path.isdir(resolved):
            for directory, _dirs, names in os.walk(resolved):
                for child in names:
                    path = os.path.join(directory, child)
                    real = os.path.realpath(path)
                    if _inside(real, root) and os.path.isfile(real):
                        relative = os.path.relpath(path, resolved)
                        files[f"{name}/{relative}"] = real
        elif os.path.isfile(resolved):
            files[name] = resolved
    return files


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def build_secret_data(spec: SecretObjectSpec, files: Mapping[str, str]) -> dict[str, bytes]:
    """Key -> bytes for ``spec`` from the mounted ``files``; raises SecretDataError."""
    data: dict[str, bytes] = {}
    for object_name, key in spec.data:
        path = files.get(object_name)
        if path is None:
            present = ", ".join(sorted(files)) or "none"
            raise SecretDataError(
                f"file matching objectName {object_name} not found in the pod "
                f"(files in the volume: {present})"
            )
        with open(path, "rb") as handle:
            content = handle.read()
        if spec.secret_type == TLS_TYPE:
            content = tls_part(content, key)
        data[key] = content
    return data
