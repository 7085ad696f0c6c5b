"""The benchmark floor: ``GET /_bench/floor?size=N`` on any vault host, only when the cloud
runs with ``KVCSI_KEYVAULT_BENCH_FLOOR=1``.

It answers a fixed JSON body of N bytes (default 256) straight from ASGI, in front of the
Key Vault app and of anything wrapped around it (the audit log), so it costs exactly the
shared server stack: uvicorn, TLS, HTTP parsing and host routing. ``bench/
keyvault_throughput.py`` compares GET secret with it. Without the variable the wrapper is
not installed at all.
"""

from __future__ import annotations

import json
import os

from starlette.types import ASGIApp, Receive, Scope, Send

ENVIRONMENT_VARIABLE = "KVCSI_KEYVAULT_BENCH_FLOOR"
PATH = "/_bench/floor"
DEFAULT_SIZE = 256
_HEADERS_PREFIX = [(b"content-type", b"application/json; charset=utf-8")]


def floor_body(size: int) -> bytes:
    """``{"value": "xxx…"}`` of exactly ``size`` bytes (at least 13)."""
    return json.dumps({"value": "x" * max(0, size - 13)}).encode()


class BenchFloor:
    """Answers the floor path itself; passes every other request to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._bodies: dict[int, bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        size = DEFAULT_SIZE
        for part in scope.get("query_string", b"").decode().split("&"):
            if part.startswith("size=") and part[5:].isdigit():
                size = max(13, min(int(part[5:]), 1 << 20))
        body = self._bodies.get(size)
        if body is None:
            body = self._bodies.setdefault(size, floor_body(size))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*_HEADERS_PREFIX,
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def with_bench_floor(app: ASGIApp) -> ASGIApp:
    """``app`` behind the floor when the environment asks for it, else ``app`` itself."""
    if os.environ.get(ENVIRONMENT_VARIABLE, "") in ("", "0"):
        return app
    return BenchFloor(app)
