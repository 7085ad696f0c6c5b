"""Containers as host processes, each in its own private mount namespace.

Counterpart: the container runtime behind kubelet (CRI), reduced to what this project needs:
images are *not* pulled or run. A container's ``command`` + ``args`` run directly on the host,
with the container's ``env`` and ``workingDir``; a container without ``command`` runs a
placeholder (``sleep infinity``) so the pod still runs and can be exec'd into. As root, every
volumeMount's host path is bind-mounted at its ``mountPath`` inside a private mount namespace
(``unshare --mount --propagation private``; read-only binds for ``readOnly`` mounts), so the
process sees the CSI volume exactly where the pod spec says. Without root, an unprivileged
user namespace gives the same view (``unshare --user --map-root-user --mount``; missing
mountPath directories are made inside the namespace, see :mod:`kvcsi.node.container_init`).
Where neither works there is no namespace: mountPaths are not mapped and
``KVCSI_VOLUME_<NAME>`` carries each volume's host path instead. The container's pid is
recorded in ``<container>.pid`` for ``exec``.
"""

from __future__ import annotations

import enum
import functools
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcsi.cluster.errors import NotFound
from kvcsi.node.layout import PodLayout
from kvcsi.node.volumes import decoded_secret_data

log = logging.getLogger(__name__)

PLACEHOLDER_COMMAND = ("sleep", "infinity")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_warned_no_namespace = False


class ContainerConfigError(Exception):
    """The container cannot be configured (e.g. a referenced Secret is missing);
    kubelet reports it as ``Error: <text>`` with reason CreateContainerConfigError."""


class NamespaceMode(enum.Enum):
    """How containers get their own mount namespace."""

    ROOT = "root"  # unshare --mount: mount points may be created on the host
    USER = "user"  # unshare --user --map-root-user --mount: everything stays in the namespace
    NONE = "none"  # no namespace: volumes reach the process through KVCSI_VOLUME_<NAME>


@functools.cache
def _user_namespaces_work() -> bool:
    try:
        probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                               capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def namespace_mode() -> NamespaceMode:
    """Root gets plain mount namespaces; others an unprivileged user namespace if allowed."""
    if shutil.which("unshare") is None:
        return NamespaceMode.NONE
    if os.geteuid() == 0:
        return NamespaceMode.ROOT
    return NamespaceMode.USER if _user_namespaces_work() else NamespaceMode.NONE


def use_mount_namespaces() -> bool:
    return namespace_mode() is not NamespaceMode.NONE


def expand_references(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: defined names are replaced, ``$$`` escapes ``$``."""
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))
    return _REFERENCE.sub(replace, text)


def _field_value(pod: Mapping[str, Any], path: str) -> str:
    metadata = pod.get("metadata") or {}
    simple = {
        "metadata.name": metadata.get("name", ""),
        "metadata.namespace": metadata.get("namespace", ""),
        "metadata.uid": metadata.get("uid", ""),
        "spec.nodeName": (pod.get("spec") or {}).get("nodeName", ""),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", "default"),
        "status.hostIP": "127.0.0.1",
        "status.podIP": "127.0.0.1",
    }
    if path in simple:
        return str(simple[path])
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))
    return ""


def _lookup(store: Any, kind: str, namespace: str, name: str, optional: bool) -> dict[str, str]:
    try:
        obj = store.get("v1", kind, namespace, name)
    except NotFound as error:
        if optional:
            return {}
        raise ContainerConfigError(str(error)) from None
    return decoded_secret_data(obj) if kind == "Secret" else dict(obj.get("data") or {})


def container_env(store: Any, pod: Mapping[str, Any], container: Mapping[str, Any],
                  volume_paths: Mapping[str, Path], mapped: bool) -> dict[str, str]:
    """The process environment: a default PATH and HOSTNAME, envFrom, env (in order)."""
    metadata = pod.get("metadata") or {}
    namespace = metadata.get("namespace", "default")
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": metadata.get("name", ""), "HOME": "/root"}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            if key in source:
                ref = source[key]
                values = _lookup(store, kind, namespace, ref.get("name", ""),
                                 bool(ref.get("optional")))
                env.update({prefix + k: v for k, v in values.items()})
    for entry in container.get("env") or []:
        name = entry["name"]
        if "value" in entry:
            env[name] = expand_references(str(entry["value"]), env)
            continue
        source = entry.get("valueFrom") or {}
        if "fieldRef" in source:
            env[name] = _field_value(pod, source["fieldRef"].get("fieldPath", ""))
        for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            if key in source:
                ref = source[key]
                values = _lookup(store, kind, namespace, ref.get("name", ""),
                                 bool(ref.get("optional")))
                if ref.get("key") in values:
                    env[name] = values[ref["key"]]
                elif not ref.get("optional"):
                    raise ContainerConfigError(
                        f"couldn't find key {ref.get('key')} in {kind} "
                        f"{namespace}/{ref.get('name')}")
    if not mapped:
        for volume, path in volume_paths.items():
            env[volume_env_name(volume)] = str(path)
    return env


def volume_env_name(volume: str) -> str:
    """``KVCSI_VOLUME_<NAME>``: the volume name upper-cased, other characters as ``_``."""
    return "KVCSI_VOLUME_" + re.sub(r"[^A-Z0-9]", "_", volume.upper())


def container_argv(container: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """``command`` + ``args`` with ``$(VAR)`` expanded; the placeholder when there is no
    command (the image's entrypoint is unknown, images are not run)."""
    command = [expand_references(str(part), env) for part in container.get("command") or []]
    if not command:
        return list(PLACEHOLDER_COMMAND)
    return command + [expand_references(str(part), env) for part in container.get("args") or []]


@dataclass(frozen=True)
class BindMount:
    source: Path
    target: str
    read_only: bool


def bind_mounts(container: Mapping[str, Any], volume_paths: Mapping[str, Path]) -> list[BindMount]:
    mounts = []
    for mount in container.get("volumeMounts") or []:
        source = volume_paths.get(mount.get("name", ""))
        if source is None:
            continue
        if mount.get("subPath"):
            source = source / mount["subPath"]
        mounts.append(BindMount(source, mount["mountPath"], bool(mount.get("readOnly"))))
    return mounts


def _ensure_mount_point(mount: BindMount) -> None:
    target = Path(mount.target)
    if target.exists():
        return
    if mount.source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    log.info("created mountPath %s on the host as a mount point (containers run on the host, "
             "in a private mount namespace; the directory stays empty outside it)", target)


def launch_argv(argv: Sequence[str], mounts: Sequence[BindMount], workdir: str | None,
                mode: NamespaceMode) -> list[str]:
    """The host command line that starts the container process."""
    if mode is NamespaceMode.NONE:
        return list(argv)
    init = [sys.executable, "-I", "-m", "kvcsi.node.container_init"]
    for mount in mounts:
        init += ["--ro-bind" if mount.read_only else "--bind", str(mount.source), mount.target]
    if workdir:
        init += ["--workdir", workdir]
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if mode is NamespaceMode.USER:
        unshare = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
    return [*unshare, "--", *init, "--", *argv]


def process_start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/<pid>/stat``: tells a live process from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def start_container(pod_dir: PodLayout, container: Mapping[str, Any], env: Mapping[str, str],
                    volume_paths: Mapping[str, Path]) -> subprocess.Popen[bytes]:
    """Start one container process; stdout and stderr go to ``<container>.log``."""
    global _warned_no_namespace
    name = container["name"]
    mode = namespace_mode()
    mounts = bind_mounts(container, volume_paths)
    workdir = container.get("workingDir")
    if mode is NamespaceMode.ROOT:
        for mount in mounts:
            _ensure_mount_point(mount)
    elif mounts and not _warned_no_namespace:
        _warned_no_namespace = True
        if mode is NamespaceMode.USER:
            log.warning("not running as root: containers run in unprivileged user namespaces; "
                        "volumes are mapped at their mountPath inside them (missing "
                        "directories are made there, not on the host)")
        else:
            log.warning("not running as root and user namespaces are unavailable: containers "
                        "run without a mount namespace, so volumeMounts are not mapped to "
                        "their mountPath; each volume's host path is in the environment as "
                        "KVCSI_VOLUME_<NAME>")
    namespaced = mode is not NamespaceMode.NONE
    argv = container_argv(container, env)
    if not container.get("command"):
        log.info("container %s has no command; images are not run locally, so it runs %s",
                 name, " ".join(PLACEHOLDER_COMMAND))
    cwd: str | None = None
    if not namespaced:
        cwd = workdir if workdir and Path(workdir).is_dir() else str(pod_dir.root)
    pod_dir.root.mkdir(parents=True, exist_ok=True)
    with open(pod_dir.container_log(name), "ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - list argv, never a shell
            launch_argv(argv, mounts, workdir, mode),
            env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    start = process_start_time(process.pid) or ""
    pod_dir.container_pid_file(name).write_text(f"{process.pid} {start}\n")
    return process


def read_pid_file(pid_file: Path) -> int | None:
    """The pid recorded for a container, if that process is still the same one."""
    try:
        pid_text, _, start = pid_file.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    current = process_start_time(pid)
    if current is None or (start and current != start):
        return None
    return pid


def kill_stale(pid_file: Path) -> None:
    """Kill a container left running by a previous runtime (crash), if any."""
    pid = read_pid_file(pid_file)
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    pid_file.unlink(missing_ok=True)
