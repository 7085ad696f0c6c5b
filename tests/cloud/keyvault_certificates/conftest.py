"""Fixtures of the certificate tests: ``pki`` (test certificates) and ``cert_vault`` (a fresh
RBAC vault whose app may run every certificate operation, with SDK clients)."""

from __future__ import annotations

import pytest
from kv_certificate_support import (
    CERTIFICATE_ACTIONS,
    KEY_ACTIONS,
    SECRET_ACTIONS,
    CertificateVault,
    Pki,
    vault_name_for,
)


@pytest.fixture
def pki() -> Pki:
    return Pki()


@pytest.fixture
def cert_vault(shared_local_cloud, fake_rbac, request) -> CertificateVault:
    cloud = shared_local_cloud
    vault = cloud.seed.vault(vault_name_for(request))
    app = cloud.seed.app("certificates-officer")
    for action in CERTIFICATE_ACTIONS + SECRET_ACTIONS + KEY_ACTIONS:
        fake_rbac.grant(app.object_id, action, vault["id"])
    return CertificateVault(cloud, vault, app, fake_rbac)
