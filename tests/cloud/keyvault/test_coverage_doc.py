"""``docs/keyvault-coverage.md`` stays true: its ``implemented`` rows are exactly the routes
of the local Key Vault (method + path, placeholders compared as ``{}``)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from kvcsi.cloud.keyvault.routes import CERTIFICATE_ROUTES_MODULE, route_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "keyvault-coverage.md"
ROW = re.compile(r"^\|\s*(?P<operation>[^|]+?)\s*\|\s*(?P<method>[A-Z/]+)\s*\|\s*"
                 r"`(?P<path>[^`]+)`\s*\|\s*(?P<status>[^|]+?)\s*\|$")
STATUSES = {"implemented", "not implemented", "n/a", "local"}


def normalize(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def doc_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in DOC.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            rows.append((match["method"], normalize(match["path"]), match["status"]))
    return rows


def is_certificate_path(path: str) -> bool:
    return path.startswith(("/certificates", "/deletedcertificates"))


def test_doc_rows_are_well_formed():
    rows = doc_rows()
    assert len(rows) > 100
    assert {status for _, _, status in rows} <= STATUSES
    keys = [(method, path) for method, path, _ in rows]
    assert len(keys) == len(set(keys)), "an operation is listed twice"


def test_implemented_rows_are_exactly_the_routes(shared_local_cloud):
    routes = {(method, normalize(route.path))
              for route in route_table(shared_local_cloud.runner.context)
              for method in route.methods or () if method != "HEAD"}
    documented = {(method, path) for method, path, status in doc_rows()
                  if status == "implemented"}
    if importlib.util.find_spec(CERTIFICATE_ROUTES_MODULE) is None:
        documented = {row for row in documented if not is_certificate_path(row[1])}
    assert sorted(routes - documented) == [], "routes missing from docs/keyvault-coverage.md"
    assert sorted(documented - routes) == [], "documented as implemented but no route"
