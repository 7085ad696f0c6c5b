"""What ``kvcsi kubectl exec`` and ``kubectl logs`` call: run in a container, read its log.

Counterparts: kubelet's exec and containerLogs handlers (``/exec``, ``/containerLogs``).
``exec_in_pod`` runs argv inside the container's mount namespace with the container's
environment (``nsenter --target <pid> --mount`` from util-linux; the pid comes from
``<container>.pid`` in the pod dir, the environment from ``/proc/<pid>/environ``, the working
directory from ``/proc/<pid>/cwd``); a container in an unprivileged user namespace (no root)
is entered with ``--user`` too. A container without a namespace runs argv on the host with
the same environment. Errors are :class:`PodAccessError` carrying kubectl's
text.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kvcsi.cluster.errors import NotFound
from kvcsi.node.containers import read_pid_file
from kvcsi.node.layout import HomeLayout, PodLayout


class PodAccessError(Exception):
    """exec/logs refused; ``str()`` is what kubectl prints (``error: ...``/``Error from ...``)."""


@dataclass(frozen=True)
class ContainerTarget:
    pod: dict[str, Any]
    container: str
    pod_dir: PodLayout


def current_cluster(home: Path) -> str:
    """The cluster named in ``$KVCSI_HOME/current-cluster``."""
    try:
        name = (Path(home) / "current-cluster").read_text().strip()
    except FileNotFoundError:
        name = ""
    if not name:
        raise PodAccessError("error: no current cluster (run `kvcsi az aks get-credentials`)")
    return name


def _connect(store_path: Path) -> Any:
    from kvcsi.cluster import connect

    return connect(str(store_path))


def locate(home: Path, cluster: str | None, namespace: str, pod: str,
           container: str | None) -> ContainerTarget:
    """Find the pod and container; ``container=None`` means the pod's first container."""
    layout = HomeLayout(Path(home))
    cluster_name = cluster or current_cluster(layout.home)
    cluster_dir = layout.cluster(cluster_name)
    store = _connect(cluster_dir.store_path)
    try:
        try:
            obj = store.get("v1", "Pod", namespace, pod)
        except NotFound as error:
            raise PodAccessError(error.kubectl_text()) from None
    finally:
        close = getattr(store, "close", None)
        if close:
            close()
    names = [c["name"] for c in (obj.get("spec") or {}).get("containers") or []]
    chosen = container or (names[0] if names else "")
    if chosen not in names:
        raise PodAccessError(f"Error from server (BadRequest): container {chosen} is not valid "
                             f"for pod {pod}")
    node = (obj.get("spec") or {}).get("nodeName") or ""
    uid = (obj.get("metadata") or {}).get("uid", "")
    return ContainerTarget(obj, chosen, cluster_dir.node(node).pod(uid))


def _waiting_reason(pod: Mapping[str, Any], container: str) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            state = status.get("state") or {}
            if "waiting" in state:
                return str(state["waiting"].get("reason", "ContainerCreating"))
            if "terminated" in state:
                return "Terminated"
    return "ContainerCreating"


def container_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    env: dict[str, str] = {}
    for entry in raw.split(b"\0"):
        if b"=" in entry:
            key, _, value = entry.partition(b"=")
            env[key.decode(errors="replace")] = value.decode(errors="replace")
    return env


def _same_namespace(pid: int, kind: str) -> bool:
    return os.readlink(f"/proc/{pid}/ns/{kind}") == os.readlink(f"/proc/self/ns/{kind}")


def exec_command(pid: int, argv: Sequence[str]) -> list[str]:
    """The host command line that runs argv in the container with pid ``pid``: into its
    mount namespace, and its user namespace too when it runs in one (no root)."""
    cwd = os.readlink(f"/proc/{pid}/cwd")
    if not shutil.which("nsenter") or _same_namespace(pid, "mnt"):
        return list(argv)
    namespaces = ["--mount"]
    if not _same_namespace(pid, "user"):
        namespaces = ["--user", "--mount", "--preserve-credentials"]
    return ["nsenter", f"--target={pid}", *namespaces, f"--wd={cwd}", "--", *argv]


def exec_in_pod(home: Path | str, cluster: str | None, namespace: str, pod: str,
                container: str | None, argv: Sequence[str], *,
                stdin: IO[Any] | int | None = None, stdout: IO[Any] | int | None = None,
                stderr: IO[Any] | int | None = None) -> int:
    """Run ``argv`` in the container and return its exit code.

    stdin/stdout/stderr default to the caller's (pass-through, like ``kubectl exec -i``).
    Raises :class:`PodAccessError` when the pod or container is missing or not running.
    """
    if not argv:
        raise PodAccessError("error: you must specify at least one command for the container")
    target = locate(Path(home), cluster, namespace, pod, container)
    pid = read_pid_file(target.pod_dir.container_pid_file(target.container))
    if pid is None:
        raise PodAccessError(
            "error: unable to upgrade connection: container not found "
            f'("{target.container}")')
    env = container_environment(pid)
    command = exec_command(pid, argv)
    cwd = None if command[0] == "nsenter" else os.readlink(f"/proc/{pid}/cwd")
    try:
        completed = subprocess.run(command, env=env, cwd=cwd, stdin=stdin, stdout=stdout,
                                   stderr=stderr, check=False)
    except FileNotFoundError:
        return 127
    return completed.returncode


def read_logs(home: Path | str, cluster: str | None, namespace: str, pod: str,
              container: str | None = None) -> bytes:
    """The container's stdout+stderr so far (``kubectl logs``)."""
    target = locate(Path(home), cluster, namespace, pod, container)
    log_file = target.pod_dir.container_log(target.container)
    if not log_file.exists():
        reason = _waiting_reason(target.pod, target.container)
        raise PodAccessError(
            f'Error from server (BadRequest): container "{target.container}" in pod "{pod}" '
            f"is waiting to start: {reason}")
    return log_file.read_bytes()
