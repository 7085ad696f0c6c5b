"""az-style output: ``--query`` (JMESPath) then ``-o json|jsonc|yaml|yamlc|tsv|table|none``.

Upstream counterpart: knack's output producer, which the Azure CLI uses. The rules it follows,
so scripts written against ``az`` keep working (``$(kvcsi az ... --query id -o tsv)``):

- json/jsonc: two-space indent, keys sorted, non-ASCII kept; yaml/yamlc: block style, sorted.
- tsv: one line per list item; a dict's values in key order (insertion order for the objects a
  query built), nested dicts as an empty cell, nested lists as their length, ``None`` as
  ``None``; a bare boolean as ``true``/``false``.
- table: columns from the scalar fields (``id``, ``type`` and ``etag`` left out), headers
  capitalised, keys sorted unless a query shaped the result; tabulate's ``simple`` layout
  (a column at least its header + 2 wide, lines right-trimmed).
- nothing at all when the result is ``None``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import jmespath
import yaml

FORMATS = ("json", "jsonc", "tsv", "table", "yaml", "yamlc", "none")
_TABLE_SKIPPED_KEYS = ("id", "type", "etag")
_TABLE_HEADER_PADDING = 2  # tabulate's MIN_PADDING: a column is at least its header + 2


def apply_query(result: Any, query: str | None) -> Any:
    if not query:
        return result
    return jmespath.search(query, result, options=jmespath.Options(dict_cls=OrderedDict))


def _tsv_cell(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, dict):
        return ""
    return value if isinstance(value, str) else str(value)


def _tsv_row(item: Any) -> str:
    if isinstance(item, OrderedDict):
        values: list[Any] = list(item.values())
    elif isinstance(item, dict):
        values = [value for _, value in sorted(item.items())]
    elif isinstance(item, list):
        values = item
    elif isinstance(item, bool):
        return str(item).lower()
    else:
        return _tsv_cell(item)
    return "\t".join(_tsv_cell(value) for value in values)


def to_tsv(result: Any) -> str:
    rows = result if isinstance(result, list) else [result]
    return "".join(_tsv_row(item) + "\n" for item in rows)


def _table_row(item: Any, sort_keys: bool) -> dict[str, str]:
    if isinstance(item, dict):
        keys = sorted(item) if sort_keys else list(item)
        return {key[:1].upper() + key[1:]: str(item[key]) for key in keys
                if key not in _TABLE_SKIPPED_KEYS and item[key] is not None
                and not isinstance(item[key], (list, dict, set))}
    if isinstance(item, list):
        return {f"Column{index + 1}": str(value) for index, value in enumerate(item)}
    return {"Result": str(item)}


def to_table(result: Any, sort_keys: bool = True) -> str:
    rows = [_table_row(item, sort_keys) for item in
            (result if isinstance(result, list) else [result])]
    if not rows:
        return "\n"
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    widths = [max([len(column) + _TABLE_HEADER_PADDING]
                  + [len(row.get(column, "")) for row in rows])
              for column in columns]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
                         ).rstrip()

    lines = [line(columns), "  ".join("-" * width for width in widths)]
    lines += [line([row.get(column, "") for column in columns]) for row in rows]
    return "\n".join(lines) + "\n"


def render(result: Any, output: str, query: str | None = None) -> str | None:
    """The exact text az prints for ``result`` (newline included); None when nothing is."""
    if output not in FORMATS:
        raise ValueError(f"unknown output format {output!r}")
    result = apply_query(result, query)
    if result is None:
        return None
    if output == "none":
        return ""
    if output in ("json", "jsonc"):
        return json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True,
                          separators=(",", ": ")) + "\n"
    if output == "tsv":
        return to_tsv(result)
    if output == "table":
        return to_table(result, sort_keys=not query)
    return yaml.safe_dump(json.loads(json.dumps(result)), default_flow_style=False,
                          allow_unicode=True)
