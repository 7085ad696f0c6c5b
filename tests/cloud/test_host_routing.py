"""One HTTPS listener, routed by Host (contract §1), and the Key Vault delay option."""

from __future__ import annotations

import importlib
import time

import requests
import urllib3
from support.local_cloud import running_local_cloud


def test_hosts_reach_their_services(shared_local_cloud):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    cloud = shared_local_cloud
    port, ca = cloud.https_port, cloud.ca_bundle
    entra = requests.get(f"https://127.0.0.1:{port}/common/discovery/keys", verify=ca,
                         timeout=10)
    assert entra.status_code == 200 and entra.json()["keys"]
    vault = requests.get(f"https://anything.vault.localhost:{port}/secrets?api-version=7.4",
                         verify=ca, timeout=10)
    assert (vault.status_code, vault.json()["error"]["code"]) == (404, "VaultNotFound")
    try:
        importlib.import_module("kvcsi.cloud.arm.routes")
        arm_available = True
    except ImportError:
        arm_available = False
    for host in ("management", "graph"):
        response = requests.get(f"https://{host}.localhost:{port}/subscriptions", verify=ca,
                                timeout=10)
        if arm_available:
            assert not any(code in response.text for code in ("VaultNotFound", "UnknownHost"))
        else:
            assert (response.status_code, response.json()["error"]["code"]) == (
                503, "ServiceUnavailable")
    # OpenSSL does not match "*.localhost" (a wildcard over a single label), so other
    # names under .localhost are not covered by the certificate; skip verification here.
    unknown = requests.get(f"https://other.localhost:{port}/", verify=False, timeout=10)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "UnknownHost")


def test_keyvault_delay_applies_to_vault_requests_only(tmp_path):
    with running_local_cloud(tmp_path / "home", keyvault_delay_ms=300) as cloud:
        session = requests.Session()
        url = cloud.vault_url("nosuch") + "/secrets?api-version=7.4"
        # the first request sets the connection up, outside the measurement
        session.get(url, timeout=10, verify=cloud.ca_bundle)
        started = time.monotonic()
        assert session.get(url, timeout=10, verify=cloud.ca_bundle).status_code == 404
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        session.get(f"{cloud.authority}/common/discovery/keys", timeout=10,
                    verify=cloud.ca_bundle)
        assert time.monotonic() - started < 0.3
