"""Key Vault list paging: ``maxresults`` (1–25, default 25) and absolute ``nextLink`` URLs.

A ``nextLink`` is ``{vault url}{path}?api-version={v}&$skiptoken={token}&maxresults={n}``;
the last page has ``"nextLink": null``. The skip token is opaque to clients (base64url):
for name listings it holds the last name returned, so each page is one indexed query; for
version listings it holds an offset.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from kvcsi.cloud.keyvault.errors import BadParameter

DEFAULT_MAX_RESULTS = 25
MAX_MAX_RESULTS = 25


def max_results(query: Mapping[str, str]) -> int:
    raw = query.get("maxresults")
    if raw is None or raw == "":
        return DEFAULT_MAX_RESULTS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_MAX_RESULTS:
        raise BadParameter(f"invalid maxresults value '{raw}'. The value must be between 1 "
                           f"and {MAX_MAX_RESULTS}.")
    return value


def encode_token(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def skip_position(query: Mapping[str, str]) -> str:
    token = query.get("$skiptoken")
    if not token:
        return ""
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_",
                                validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadParameter("The $skiptoken is invalid.") from None


def skip_offset(query: Mapping[str, str]) -> int:
    """The offset a version listing's skip token holds (0 without one)."""
    position = skip_position(query)
    if not position:
        return 0
    if not position.isdigit():
        raise BadParameter("The $skiptoken is invalid.")
    return int(position)


def page(items: list[dict[str, Any]], next_position: str | None, base_url: str, path: str,
         api_version: str, size: int) -> dict[str, Any]:
    next_link = None
    if next_position is not None:
        next_link = (f"{base_url}{path}?api-version={api_version}"
                     f"&$skiptoken={encode_token(next_position)}&maxresults={size}")
    return {"value": items, "nextLink": next_link}
