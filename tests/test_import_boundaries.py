"""Package boundaries of ARCHITECTURE.md, enforced by parsing every module's imports.

`kvcsi.driver`, `kvcsi.provider` and `kvcsi.cloud` never import one another (driver <-> provider
only over gRPC, provider <-> cloud only over HTTPS, node <-> driver only over CSI gRPC). The rules
below say, per package, which kvcsi packages it may import; third-party and standard-library
imports are never restricted. "top" is the shared top level: ``kvcsi`` itself and the modules
directly in ``src/kvcsi`` (``kvcsi.netrules``), which in turn may import no package at all, so
that nothing is reached through them. ``kvcsi.cli`` is the composition root and may import
everything; nothing imports it.

Static ``import`` / ``from ... import`` statements (absolute and relative, also inside functions
and ``if TYPE_CHECKING:``) and ``importlib.import_module("...")`` / ``__import__("...")`` with a
literal name are all checked.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC_ROOT = Path(__file__).resolve().parent.parent / "src"
TOP = "top"

# importer group -> kvcsi groups it may import (its own group is always allowed)
ALLOWED_IMPORTS: dict[str, frozenset[str]] = {
    "_proto": frozenset(),
    "driver": frozenset({TOP, "_proto", "cluster"}),
    "provider": frozenset({TOP, "_proto"}),
    "cloud": frozenset({TOP, "_proto"}),
    "cluster": frozenset({TOP, "_proto"}),
    "node": frozenset({TOP, "_proto", "cluster"}),
    TOP: frozenset(),
}
# Entry points that wire everything together.
UNRESTRICTED_GROUPS = frozenset({"cli"})
UNRESTRICTED_MODULES = frozenset({"kvcsi.__main__"})


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    importer: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported} ({self.reason})"


def module_name(path: Path, src_root: Path) -> str:
    parts = list(path.relative_to(src_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def subpackages(package_dir: Path) -> frozenset[str]:
    return frozenset(
        child.name for child in package_dir.iterdir() if (child / "__init__.py").is_file()
    )


def group_of(dotted: str, packages: frozenset[str]) -> str | None:
    """The boundary group of a dotted module name, or None if it is not part of kvcsi."""
    parts = dotted.split(".")
    if parts[0] != "kvcsi":
        return None
    if len(parts) > 1 and parts[1] in packages:
        return parts[1]
    return TOP


def _resolve_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imported_names(tree: ast.AST, importer: str, is_package: bool) -> list[tuple[int, str]]:
    """Every (line, dotted module) a module imports, with relative imports resolved.

    ``from a.b import c`` yields ``a.b.c`` (c may be a submodule); attributes such as
    ``from kvcsi import __version__`` fall into the same group as their module anyway.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(importer, is_package, node.level, node.module)
            else:
                base = node.module or ""
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            if node.args and isinstance(node.args[0], ast.Constant):
                if isinstance(node.args[0].value, str):
                    found.append((node.lineno, node.args[0].value))
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def _reason(importer_group: str, allowed: frozenset[str]) -> str:
    if importer_group == TOP:
        return "the shared top level may import no kvcsi package"
    if not allowed:
        return f"kvcsi.{importer_group} may import no other kvcsi package"
    names = [f"kvcsi.{group}" if group != TOP else "kvcsi (top level)" for group in sorted(allowed)]
    return f"kvcsi.{importer_group} may import only {', '.join(names)}"


def find_violations(src_root: Path) -> list[Violation]:
    package_dir = src_root / "kvcsi"
    packages = subpackages(package_dir)
    violations: list[Violation] = []
    for path in sorted(package_dir.rglob("*.py")):
        importer = module_name(path, src_root)
        importer_group = group_of(importer, packages)
        if importer_group in UNRESTRICTED_GROUPS or importer in UNRESTRICTED_MODULES:
            continue
        allowed = ALLOWED_IMPORTS.get(importer_group, frozenset())
        tree = ast.parse(path.read_bytes(), filename=str(path))
        is_package = path.name == "__init__.py"
        for line, imported in imported_names(tree, importer, is_package):
            imported_group = group_of(imported, packages)
            if imported_group is None or imported_group == importer_group:
                continue
            if imported_group in allowed:
                continue
            reason = _reason(importer_group, allowed)
            violations.append(
                Violation(path.relative_to(src_root), line, importer, imported, reason)
            )
    return violations


# ------------------------------------------------------------------ the tree


def test_every_package_has_a_rule() -> None:
    packages = subpackages(SRC_ROOT / "kvcsi")
    unruled = packages - set(ALLOWED_IMPORTS) - UNRESTRICTED_GROUPS
    assert unruled == set(), f"add a boundary rule for: {sorted(unruled)}"


def test_source_tree_respects_package_boundaries() -> None:
    violations = find_violations(SRC_ROOT)
    assert violations == [], "import boundary violations:\n" + "\n".join(map(str, violations))


# --------------------------------------------------------- the checker itself


def _write(root: Path, relative: str, text: str = "") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def fake_tree(tmp_path: Path) -> Path:
    _write(tmp_path, "kvcsi/__init__.py", "from kvcsi import netrules\n")
    _write(tmp_path, "kvcsi/netrules.py", "import socket\n")
    for package in ("_proto", "driver", "provider", "cloud", "cluster", "node", "cli"):
        _write(tmp_path, f"kvcsi/{package}/__init__.py")
    return tmp_path


def test_clean_tree_has_no_violations(fake_tree: Path) -> None:
    _write(
        fake_tree,
        "kvcsi/driver/node.py",
        "from kvcsi._proto import csi_pb2\nfrom kvcsi.cluster import store\nimport grpc\n",
    )
    _write(fake_tree, "kvcsi/provider/mount.py", "from kvcsi import netrules\nfrom . import x\n")
    _write(fake_tree, "kvcsi/cli/main.py", "import kvcsi.cloud, kvcsi.driver, kvcsi.provider\n")
    assert find_violations(fake_tree) == []


def test_absolute_import_across_a_boundary_is_reported(fake_tree: Path) -> None:
    _write(fake_tree, "kvcsi/provider/keyvault.py", "import os\n\nimport kvcsi.cloud.store\n")
    [violation] = find_violations(fake_tree)
    assert str(violation) == (
        "kvcsi/provider/keyvault.py:3: kvcsi.provider.keyvault imports kvcsi.cloud.store "
        "(kvcsi.provider may import only kvcsi._proto, kvcsi (top level))"
    )


def test_from_import_of_a_package_name_is_reported(fake_tree: Path) -> None:
    _write(fake_tree, "kvcsi/cloud/arm/__init__.py", "from kvcsi import driver\n")
    [violation] = find_violations(fake_tree)
    assert (violation.importer, violation.imported, violation.line) == (
        "kvcsi.cloud.arm",
        "kvcsi.driver",
        1,
    )


def test_relative_import_is_resolved_and_reported(fake_tree: Path) -> None:
    _write(fake_tree, "kvcsi/node/plugins.py", "def f():\n    from ..driver import node\n")
    [violation] = find_violations(fake_tree)
    assert (violation.imported, violation.line) == ("kvcsi.driver.node", 2)


def test_dynamic_import_with_a_literal_name_is_reported(fake_tree: Path) -> None:
    _write(
        fake_tree,
        "kvcsi/cluster/store.py",
        "import importlib\nimportlib.import_module('kvcsi.node.layout')\n",
    )
    [violation] = find_violations(fake_tree)
    assert violation.imported == "kvcsi.node.layout"


def test_top_level_module_may_not_import_a_package(fake_tree: Path) -> None:
    _write(fake_tree, "kvcsi/netrules.py", "from kvcsi.cluster import store\n")
    [violation] = find_violations(fake_tree)
    assert violation.reason == "the shared top level may import no kvcsi package"


def test_proto_imports_only_itself(fake_tree: Path) -> None:
    _write(
        fake_tree,
        "kvcsi/_proto/csi_pb2_grpc.py",
        "from kvcsi._proto import csi_pb2\nfrom kvcsi import netrules\n",
    )
    [violation] = find_violations(fake_tree)
    assert (violation.imported, violation.reason) == (
        "kvcsi.netrules",
        "kvcsi._proto may import no other kvcsi package",
    )


def test_nothing_but_cli_imports_cli(fake_tree: Path) -> None:
    _write(fake_tree, "kvcsi/driver/main.py", "from kvcsi.cli import output\n")
    [violation] = find_violations(fake_tree)
    assert violation.imported == "kvcsi.cli.output"
