"""Run the real ``kvcsi`` command in a throwaway state dir, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Kvcsi:
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, KVCSI_HOME=str(self.home), KVCSI_HTTPS_PORT="0",
                    KVCSI_IMDS_PORT="0")

    def run(self, *args: str, check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "kvcsi.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, input=input)
        if check and done.returncode != 0:
            raise AssertionError(
                f"kvcsi {' '.join(args)} exited {done.returncode}\nstdout:\n{done.stdout}\n"
                f"stderr:\n{done.stderr}")
        return done

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def wait_for(self, predicate, timeout: float = 60, interval: float = 0.25) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(interval)
        raise AssertionError("condition not met in time")

    def log_texts(self) -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in self.home.rglob("*.log") if p.is_file()}
