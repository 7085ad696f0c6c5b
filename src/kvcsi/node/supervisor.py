"""A supervised child process: start, restart on exit with backoff, stop (TERM, then KILL).

Used for the driver and provider plugin processes of every node (what the DaemonSet
controller plus kubelet's container restarts do on a real node). Driven by ``poll()`` from the
runtime's loop; nothing here blocks except ``stop()``, which waits up to its grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``initial * factor**n`` seconds, at most ``cap``."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 5.0

    def delay(self, failures: int) -> float:
        if failures <= 0:
            return 0.0
        return min(self.cap, self.initial * self.factor ** (failures - 1))


@dataclass(frozen=True)
class ProcessSpec:
    """What to run: argv, environment and the file stdout/stderr go to."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    log_file: Path

    @classmethod
    def build(cls, argv: Sequence[str], env: Mapping[str, str], log_file: Path) -> ProcessSpec:
        return cls(tuple(argv), tuple(sorted(env.items())), log_file)


def terminate_process_group(process: subprocess.Popen[bytes], grace: float) -> int | None:
    """SIGTERM the process group, SIGKILL after ``grace`` seconds; returns the exit code."""
    if process.poll() is not None:
        return process.returncode
    _signal_group(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        return process.wait()


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


class SupervisedProcess:
    """Keeps one process running; a process that stays up 10 s resets the backoff."""

    STABLE_AFTER = 10.0

    def __init__(self, name: str, spec: ProcessSpec, backoff: Backoff | None = None,
                 grace: float = 5.0) -> None:
        self.name = name
        self.spec = spec
        self._backoff = backoff or Backoff(initial=0.5, factor=2.0, cap=10.0)
        self._grace = grace
        self._process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._failures = 0
        self._next_start = 0.0
        self.restarts = 0
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.poll() is None else None

    def poll(self) -> None:
        """Start the process if it is due; notice an exit and schedule the restart."""
        if self._stopped:
            return
        now = time.monotonic()
        if self._process is not None:
            code = self._process.poll()
            if code is None:
                return
            lived = now - self._started_at
            self._failures = 1 if lived >= self.STABLE_AFTER else self._failures + 1
            delay = self._backoff.delay(self._failures)
            log.warning("%s exited with code %s after %.1fs; restarting in %.1fs",
                        self.name, code, lived, delay)
            self._process = None
            self._next_start = now + delay
            self.restarts += 1
        if now >= self._next_start:
            self._start()

    def _start(self) -> None:
        self.spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.spec.log_file, "ab") as sink:
            try:
                self._process = subprocess.Popen(  # noqa: S603 - list argv, no shell
                    list(self.spec.argv),
                    env=dict(self.spec.env),
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as error:
                log.error("cannot start %s (%s): %s", self.name, self.spec.argv[0], error)
                self._failures += 1
                self._next_start = time.monotonic() + self._backoff.delay(self._failures)
                return
        self._started_at = time.monotonic()
        log.info("started %s (pid %d): %s", self.name, self._process.pid,
                 " ".join(self.spec.argv))

    def stop(self) -> None:
        """Stop for good: TERM the process group, KILL after the grace period."""
        self._stopped = True
        if self._process is not None:
            code = terminate_process_group(self._process, self._grace)
            log.info("stopped %s (exit code %s)", self.name, code)
            self._process = None
