"""Fixtures of the local-cloud tests: a running cloud (from ``support.local_cloud``) and a
stand-in for the ARM package's RBAC check, so Key Vault's decisions are tested alone."""

from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest
from support.local_cloud import local_cloud, shared_local_cloud  # noqa: F401

RBAC_MODULE = "kvcsi.cloud.arm.rbac"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    assignment_id: str | None
    reason: str


@dataclass
class FakeRbac:
    """Grants data actions to principals at a scope (prefix of the resource id)."""

    grants: list[tuple[str, str, str]] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def grant(self, principal_id: str, action: str, scope: str) -> str:
        self.grants.append((principal_id, action, scope.lower()))
        return f"{scope}/providers/Microsoft.Authorization/roleAssignments/a{len(self.grants)}"

    def check_data_action(self, store: Any, principal_id: str, action: str, resource_id: str,
                          group_ids: Any = ()) -> Decision:
        self.calls.append((principal_id, action, resource_id))
        for index, (oid, granted, scope) in enumerate(self.grants, start=1):
            if oid == principal_id and granted == action and (
                    resource_id.lower() == scope or resource_id.lower().startswith(scope + "/")):
                return Decision(True, f"{scope}/providers/Microsoft.Authorization/"
                                      f"roleAssignments/a{index}", "granted")
        return Decision(False, None, "no grant")


@pytest.fixture
def fake_rbac(monkeypatch: pytest.MonkeyPatch) -> FakeRbac:
    fake = FakeRbac()
    try:
        module = importlib.import_module(RBAC_MODULE)
    except ImportError:
        module = types.ModuleType(RBAC_MODULE)
        monkeypatch.setitem(sys.modules, RBAC_MODULE, module)
    monkeypatch.setattr(module, "check_data_action", fake.check_data_action, raising=False)
    # every check must reach the fake (its grants do not touch the store the cache watches)
    monkeypatch.setattr("kvcsi.cloud.keyvault.authorization.MAX_CACHED_DECISIONS", 0)
    return fake
