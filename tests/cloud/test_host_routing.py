"""One HTTPS listener, routed by Host (contract §1), and the Key Vault delay option."""

from __future__ import annotations

import time

import requests

from support.local_cloud import running_local_cloud


def test_hosts_reach_their_services(shared_local_cloud):
    cloud = shared_local_cloud
    port, ca = cloud.https_port, cloud.ca_bundle
    entra = requests.get(f"https://127.0.0.1:{port}/common/discovery/keys", verify=ca,
                         timeout=10)
    assert entra.status_code == 200 and entra.json()["keys"]
    vault = requests.get(f"https://anything.vault.localhost:{port}/secrets?api-version=7.4",
                         verify=ca, timeout=10)
    assert (vault.status_code, vault.json()["error"]["code"]) == (404, "VaultNotFound")
    for host in ("management", "graph"):
        response = requests.get(f"https://{host}.localhost:{port}/", verify=ca, timeout=10)
        assert response.status_code != 200 or response.json() is not None
        assert "VaultNotFound" not in response.text
    unknown = requests.get(f"https://other.localhost:{port}/", verify=ca, timeout=10)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "UnknownHost")


def test_keyvault_delay_applies_to_vault_requests_only(tmp_path):
    with running_local_cloud(tmp_path / "home", keyvault_delay_ms=300) as cloud:
        session = requests.Session()
        session.verify = cloud.ca_bundle
        url = cloud.vault_url("nosuch") + "/secrets?api-version=7.4"
        session.get(url, timeout=10)  # connection set-up outside the measurement
        started = time.monotonic()
        assert session.get(url, timeout=10).status_code == 404
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        session.get(f"{cloud.authority}/common/discovery/keys", timeout=10)
        assert time.monotonic() - started < 0.3
