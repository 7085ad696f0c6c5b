"""Every third-party package kvcsi's code imports is a declared runtime dependency.

A package that only arrives through the dev extras (or through another package's
dependencies) works in the test venv and then breaks a user's plain ``pip install``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalise(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0])
            for spec in project["dependencies"]}


def _imported_top_levels() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in (ROOT / "src" / "kvcsi").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "kvcsi" and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    declared = _declared()
    distributions = packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        candidates = {_normalise(d) for d in distributions.get(module, [])}
        if not candidates & declared:
            missing.append(f"{module} (imported in {where}; provided by "
                           f"{sorted(candidates) or 'nothing installed'})")
    assert missing == []
