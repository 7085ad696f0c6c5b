"""az's confirmation prompt for destructive commands (``--yes`` skips it)."""

from __future__ import annotations

import sys

from kvcsi.cli.session import AzError


def confirm(yes: bool, question: str = "Are you sure you want to perform this operation?"
            ) -> None:
    """Return when confirmed; raise az's error without a terminal or on a "no"."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise AzError("", "Unable to prompt for confirmation as no tty available. Use --yes.")
    answer = input(f"{question} (y/n): ").strip().lower()
    if answer not in ("y", "yes"):
        raise AzError("", "Operation cancelled.")
