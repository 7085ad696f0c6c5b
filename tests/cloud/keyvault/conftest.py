"""Fixtures of the Key Vault data-plane tests: a local cloud per module and a fresh vault per
test whose app holds a real Key Vault Administrator assignment (the ARM package's RBAC
decides)."""

from __future__ import annotations

import pytest
from kv_support import ADMINISTRATOR, VaultUnderTest, assign_role, vault_name_for
from support.local_cloud import LocalCloud, shared_local_cloud  # noqa: F401


@pytest.fixture
def kv(shared_local_cloud: LocalCloud, request: pytest.FixtureRequest) -> VaultUnderTest:  # noqa: F811
    """A fresh RBAC vault whose app is Key Vault Administrator on it."""
    cloud = shared_local_cloud
    vault = cloud.seed.vault(vault_name_for(request.node.name))
    app = cloud.seed.app("kv-admin")
    assignment_id = assign_role(cloud, app.object_id, ADMINISTRATOR, vault["id"])
    return VaultUnderTest(cloud, vault, app, assignment_id)
