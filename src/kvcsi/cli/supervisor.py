"""``kvcsi up``, ``down`` and ``status``: the local cloud and node runtime as processes.

Each component is a separate process, started the way a cluster starts its workloads:
``kvcsi-cloud`` (the local Azure) and the node runtime (the local kubelet, which in turn
runs the driver and provider of each node). With ``-d`` they are detached and tracked by
pid files under ``$KVCSI_HOME/run``; without it, ``kvcsi up`` stays in the foreground and
stops both on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kvcsi.cli.home import Home

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Component:
    name: str
    module: str

    def pid_file(self, home: Home) -> Path:
        return home.run / f"{self.name}.pid"

    def log_file(self, home: Home) -> Path:
        return home.logs / f"{self.name}.log"


CLOUD = Component("cloud", "kvcsi.cloud")
NODE = Component("node", "kvcsi.node")


def child_environment(home: Home) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"KVCSI_HOME": str(home.root), "KVCSI_LOOPBACK_ONLY": "1",
                "KVCSI_RESOLVE_LOCALHOST": "1", "PYTHONUNBUFFERED": "1"})
    return env


def running_pid(home: Home, component: Component) -> int | None:
    try:
        pid = int(component.pid_file(home).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
        if status == "Z":
            return None
    except (OSError, IndexError):
        pass
    return pid


def _start(home: Home, component: Component, args: list[str]) -> subprocess.Popen[bytes]:
    log = component.log_file(home).open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", component.module, "--home", str(home.root), *args],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        env=child_environment(home), start_new_session=True,
    )
    component.pid_file(home).write_text(f"{process.pid}\n")
    return process


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _wait_until(ready: callable, process: subprocess.Popen[bytes], component: Component,
                home: Home) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            raise RuntimeError(
                f"{component.name} exited with status {process.returncode} while starting; "
                f"last lines of {component.log_file(home)}:\n{_tail(component.log_file(home))}"
            )
        time.sleep(0.1)
    raise RuntimeError(f"{component.name} did not become ready within {READY_TIMEOUT_S:.0f}s; "
                       f"see {component.log_file(home)}")


def _cloud_ready(home: Home, pid: int) -> bool:
    try:
        import json

        return int(json.loads(home.endpoints_file.read_text()).get("pid", -1)) == pid
    except (FileNotFoundError, ValueError):
        return False


def up(home: Home, https_port: int, imds_port: int, detach: bool) -> int:
    home.ensure()
    if running_pid(home, CLOUD) or running_pid(home, NODE):
        print(f"kvcsi is already running in {home.root} (kvcsi status; kvcsi down to stop)")
        return 0
    if os.geteuid() != 0:
        print("warning: not running as root: secret volumes are plain directories instead of "
              "tmpfs mounts, and containers run in unprivileged user namespaces (or, where "
              "those are unavailable, without a mount namespace); see the README",
              file=sys.stderr)
    home.endpoints_file.unlink(missing_ok=True)
    ready_file = home.run / "node.ready"
    ready_file.unlink(missing_ok=True)
    started: list[tuple[Component, subprocess.Popen[bytes]]] = []
    try:
        cloud = _start(home, CLOUD, ["--https-port", str(https_port),
                                     "--imds-port", str(imds_port)])
        started.append((CLOUD, cloud))
        _wait_until(lambda: _cloud_ready(home, cloud.pid), cloud, CLOUD, home)
        print(f"local cloud ready      {home.endpoints()['authority']} "
              f"(IMDS {home.endpoints()['imds_base']})")
        node = _start(home, NODE, [])
        started.append((NODE, node))
        _wait_until(ready_file.exists, node, NODE, home)
        print(f"node runtime ready     logs in {home.logs}")
    except (RuntimeError, KeyboardInterrupt) as error:
        for component, _process in reversed(started):
            stop(home, component)
        if isinstance(error, RuntimeError):
            print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"kvcsi is up (state in {home.root}); next: kvcsi az group create ...")
    if detach:
        return 0
    return _foreground(home, started)


def _foreground(home: Home, started: list[tuple[Component, subprocess.Popen[bytes]]]) -> int:
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stopping and all(p.poll() is None for _, p in started):
        time.sleep(0.2)
    for component, _ in reversed(started):
        stop(home, component)
    return 0


def stop(home: Home, component: Component, timeout: float = 30.0) -> bool:
    pid = running_pid(home, component)
    component.pid_file(home).unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return True
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def down(home: Home) -> int:
    stopped = [component.name for component in (NODE, CLOUD) if stop(home, component)]
    (home.run / "node.ready").unlink(missing_ok=True)
    home.endpoints_file.unlink(missing_ok=True)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def status(home: Home) -> int:
    from kvcsi.cli import clusters

    print(f"state      {home.root}")
    for component in (CLOUD, NODE):
        pid = running_pid(home, component)
        state = f"running (pid {pid})" if pid else "stopped"
        print(f"{component.name:<10} {state}")
    if running_pid(home, CLOUD) and home.endpoints_file.exists():
        endpoints = home.endpoints()
        print(f"authority  {endpoints['authority']}")
        print(f"arm        {endpoints['resource_manager']}")
        print(f"keyvault   https://<vault>.{endpoints['keyvault_dns_suffix']}/")
        print(f"imds       {endpoints['imds_base']}/<vmId>")
    current = home.current_cluster()
    for name in clusters.registered(home):
        print(f"cluster    {name}{'  (current)' if name == current else ''}")
    return 0 if running_pid(home, CLOUD) else 3
