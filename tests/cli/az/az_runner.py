"""Run ``kvcsi az ...`` in this process against a local cloud, capturing what it prints.

Faster than a subprocess per command: the real parser, session (token, HTTPS, CA) and output
run unchanged; only stdout/stderr are captured and ``KVCSI_HOME`` is pointed at the cloud's
state dir for the duration of one command (the environment is restored afterwards).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcsi.cli.az.command import run

_ENV_KEYS = ("KVCSI_HOME", "REQUESTS_CA_BUNDLE")


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

    def __call__(self, *argv: str, stdin: str = "") -> AzResult:
        saved = {key: os.environ.get(key) for key in _ENV_KEYS}
        os.environ["KVCSI_HOME"] = str(self.home)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = run(list(argv))
                except SystemExit as exit_:
                    code = int(exit_.code or 0)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return AzResult(code, out.getvalue(), err.getvalue())

    def ok(self, *argv: str) -> AzResult:
        result = self(*argv)
        assert result.exit_code == 0, f"az {' '.join(argv)}: {result.stderr}"
        return result


def as_json(value: Any) -> str:
    """``value`` exactly as ``-o json`` prints it."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
