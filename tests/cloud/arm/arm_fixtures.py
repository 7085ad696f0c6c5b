"""Shared builders for the ARM tests: a bootstrapped store and a fake cloud context."""

from __future__ import annotations

import asyncio
import json
import json as json_module
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from kvcsi.cloud.arm import bootstrap
from kvcsi.cloud.store import CloudStore

ENDPOINTS = {"https_port": 8443, "keyvault_dns_suffix": "vault.localhost:8443",
             "resource_manager": "https://management.localhost:8443/",
             "graph": "https://graph.localhost:8443/"}


def bootstrapped_store(tmp_path: Path) -> tuple[CloudStore, bootstrap.CloudDefaults]:
    store = CloudStore(tmp_path / "home" / "cloud" / "state.db")
    bootstrap.ensure_defaults(store, ENDPOINTS)
    found = bootstrap.defaults(store)
    assert found is not None
    return store, found


@dataclass
class FakeContext:
    """A cloud context whose ``authenticate`` reads the bearer token as ``oid``."""

    store: CloudStore
    endpoints: dict[str, Any] = field(default_factory=lambda: dict(ENDPOINTS))

    def authenticate(self, request: Request) -> dict[str, Any]:
        token = request.headers["authorization"].split(" ", 1)[1]
        if token == "bad":
            raise ValueError("signature")
        return {"oid": token}


@dataclass
class AsgiResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class AsgiClient:
    """A minimal synchronous ASGI client (starlette's TestClient needs httpx, absent here)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, *, json: Any = None,
                params: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> AsgiResponse:
        return asyncio.run(self._request(method, path, json, params or {}, headers or {}))

    def get(self, path: str, **kwargs: Any) -> AsgiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> AsgiResponse:
        return self.request("POST", path, **kwargs)

    async def _request(self, method: str, path: str, body: Any, params: dict[str, str],
                       headers: dict[str, str]) -> AsgiResponse:
        payload = b"" if body is None else json_module.dumps(body).encode()
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        raw_headers.append((b"host", b"management.localhost:8443"))
        if payload:
            raw_headers.append((b"content-type", b"application/json"))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "https", "path": path, "raw_path": path.encode(),
                 "query_string": urlencode(params).encode(), "headers": raw_headers,
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8443),
                 "root_path": ""}
        sent = False
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in messages if m["type"] == "http.response.start")
        content = b"".join(m.get("body", b"") for m in messages
                           if m["type"] == "http.response.body")
        return AsgiResponse(start["status"],
                            {k.decode(): v.decode() for k, v in start["headers"]}, content)
