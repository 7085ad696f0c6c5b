"""The few request facts every Key Vault call needs, read straight from the ASGI scope.

Starlette's ``Request`` parses every header and the whole query string (``parse_qsl``) the
first time they are touched; the hot path only needs ``Host``, ``Authorization``,
``x-ms-client-request-id`` and a handful of query parameters, so it reads them here, and
request ids come from a per-process random prefix and a counter (UUID-shaped, unique, no
``os.urandom`` per request).
"""

from __future__ import annotations

import itertools
import secrets
from urllib.parse import parse_qsl

from starlette.types import Scope

_PREFIX = secrets.token_hex(10)
_COUNTER = itertools.count(1)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def query(scope: Scope) -> dict[str, str]:
    """The query parameters (first value of each), decoded as Starlette would."""
    raw = scope.get("query_string", b"")
    if not raw:
        return {}
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        pairs = parse_qsl(text, keep_blank_values=True)
    else:
        pairs = [tuple(part.partition("=")[::2]) for part in text.split("&") if part]
    found: dict[str, str] = {}
    for key, value in pairs:
        found.setdefault(key, value)
    return found


def new_request_id() -> str:
    """A UUID-shaped id, unique within this process and across processes."""
    text = f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFFFFFF:012x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-8{text[17:20]}-{text[20:]}"
