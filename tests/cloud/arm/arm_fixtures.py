"""Shared builders for the ARM tests: a bootstrapped store and a fake cloud context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
