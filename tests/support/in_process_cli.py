"""Run ``kvcsi <command> ...`` in this process, capturing what it prints.

Faster than a subprocess per command: the real parser, session (token, HTTPS, CA) and output
run unchanged; only stdout/stderr are captured and ``KVCSI_HOME`` is pointed at the given
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

from kvcsi.cli.main import main

_ENV_KEYS = ("KVCSI_HOME", "REQUESTS_CA_BUNDLE")


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_in_process(home: Path, argv: list[str]) -> CliResult:
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    os.environ["KVCSI_HOME"] = str(home)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return CliResult(code, out.getvalue(), err.getvalue())
