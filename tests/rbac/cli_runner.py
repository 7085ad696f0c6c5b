"""``kvcsi <command> ...`` in this process against a local cloud (see support.in_process_cli)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from support.in_process_cli import CliResult, run_in_process

__all__ = ["CliResult", "Kvcsi"]


@dataclass
class Kvcsi:
    home: Path

    def __call__(self, *argv: str) -> CliResult:
        return run_in_process(self.home, list(argv))
