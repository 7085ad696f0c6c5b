"""Run ``kvcsi az ...`` in this process against a local cloud (see support.in_process_cli)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.in_process_cli import run_in_process


@dataclass(frozen=True)
class AzResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.exit_code == 0, self.stderr
        return json.loads(self.stdout)


@dataclass
class Az:
    home: Path

    def __call__(self, *argv: str) -> AzResult:
        result = run_in_process(self.home, ["az", *argv])
        return AzResult(result.exit_code, result.stdout, result.stderr)

    def ok(self, *argv: str) -> AzResult:
        result = self(*argv)
        assert result.exit_code == 0, f"az {' '.join(argv)}: {result.stderr}"
        return result


def as_json(value: Any) -> str:
    """``value`` exactly as ``-o json`` prints it."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
