"""az-style output: ``--query`` (JMESPath) then ``-o json|jsonc|tsv|table|yaml|none``.

Mirrors what the Azure CLI prints for each format, so scripts written against ``az`` keep
working (``$(kvcsi az ... --query id -o tsv)``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import jmespath
import yaml

FORMATS = ("json", "jsonc", "tsv", "table", "yaml", "yamlc", "none")


def apply_query(result: Any, query: str | None) -> Any:
    if not query:
        return result
    return jmespath.search(query, result, options=jmespath.Options(dict_cls=OrderedDict))


def _tsv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def _tsv_row(item: Any) -> str:
    if isinstance(item, dict):
        return "\t".join(_tsv_cell(v) for v in item.values() if not isinstance(v, (dict, list)))
    if isinstance(item, list):
        return "\t".join(_tsv_cell(v) for v in item)
    return _tsv_cell(item)


def to_tsv(result: Any) -> str:
    if isinstance(result, list):
        return "\n".join(_tsv_row(item) for item in result)
    return _tsv_row(result)


def _column_name(key: str) -> str:
    return key[:1].upper() + key[1:]


def to_table(result: Any) -> str:
    rows = result if isinstance(result, list) else [result]
    if not rows:
        return ""
    if not all(isinstance(row, dict) for row in rows):
        return "\n".join(["Result", "--------"] + [_tsv_cell(row) for row in rows])
    columns: list[str] = []
    for row in rows:
        for key, value in row.items():
            if not isinstance(value, (dict, list)) and key not in columns:
                columns.append(key)
    cells = [[_tsv_cell(row.get(column)) for column in columns] for row in rows]
    headers = [_column_name(column) for column in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return "\n".join(lines)


def render(result: Any, output: str, query: str | None = None) -> str | None:
    """The text az would print for ``result``; None when nothing is printed."""
    result = apply_query(result, query)
    if output == "none" or result is None:
        return None
    if output in ("json", "jsonc"):
        return json.dumps(result, indent=2, ensure_ascii=False)
    if output == "tsv":
        return to_tsv(result)
    if output == "table":
        return to_table(result)
    if output in ("yaml", "yamlc"):
        return yaml.safe_dump(json.loads(json.dumps(result)), sort_keys=False).rstrip("\n")
    raise ValueError(f"unknown output format {output!r}")
