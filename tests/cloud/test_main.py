"""``python -m kvcsi.cloud`` as a process: state dir, announcement files, clean exit."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import requests

from kvcsi.cloud.main import parse_args

ENDPOINT_FIELDS = ["authority", "ca_bundle", "graph", "https_port", "imds_base", "imds_port",
                   "keyvault_dns_suffix", "keyvault_resource", "pid", "resource_manager",
                   "subscription_id", "tenant_id"]


def _wait_for(path, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear")


def test_process_announces_endpoints_and_removes_them_on_sigterm(tmp_path):
    home = tmp_path / "home"
    process = subprocess.Popen(
        [sys.executable, "-m", "kvcsi.cloud", "--home", str(home), "--https-port", "0",
         "--imds-port", "0", "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        endpoints = _wait_for(home / "cloud" / "endpoints.json", process)
        port, imds = endpoints["https_port"], endpoints["imds_port"]
        assert sorted(endpoints) == ENDPOINT_FIELDS
        assert endpoints["pid"] == process.pid
        assert endpoints["authority"] == f"https://localhost:{port}/"
        assert endpoints["resource_manager"] == f"https://management.localhost:{port}/"
        assert endpoints["graph"] == f"https://graph.localhost:{port}/"
        assert endpoints["keyvault_dns_suffix"] == f"vault.localhost:{port}"
        assert endpoints["keyvault_resource"] == f"https://vault.localhost:{port}"
        assert endpoints["imds_base"] == f"http://127.0.0.1:{imds}/vms"
        assert endpoints["ca_bundle"] == str(home / "cloud" / "ca.pem")
        environment = json.loads((home / "cloud" / "environment.json").read_text())
        assert environment == {
            "name": "KvcsiLocal",
            "activeDirectoryEndpoint": f"https://localhost:{port}/",
            "resourceManagerEndpoint": f"https://management.localhost:{port}/",
            "keyVaultEndpoint": f"https://vault.localhost:{port}/",
            "keyVaultDNSSuffix": f"vault.localhost:{port}",
            "graphEndpoint": f"https://graph.localhost:{port}/",
        }
        for key_file in ("ca-key.pem", "tls-key.pem", "signing-key.pem",
                         "keyvault-secrets.key"):
            assert stat.S_IMODE((home / "cloud" / key_file).stat().st_mode) == 0o600, key_file
        discovery = requests.get(
            f"https://localhost:{port}/{endpoints['tenant_id']}/v2.0/.well-known/"
            "openid-configuration", verify=endpoints["ca_bundle"], timeout=10)
        assert discovery.status_code == 200

        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert not (home / "cloud" / "endpoints.json").exists()
        assert (home / "cloud" / "environment.json").exists()
        stderr = process.stderr.read()
        credential = home / "cloud" / "cli-credential.json"
        if credential.exists():
            assert json.loads(credential.read_text())["clientSecret"] not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_flags_and_defaults(tmp_path):
    options = parse_args(["--home", str(tmp_path)])
    assert (options.https_port, options.imds_port, options.keyvault_delay_ms) == (8443, 8480, 0)
    options = parse_args(["--home", str(tmp_path), "--https-port", "0", "--imds-port", "0",
                          "--keyvault-delay-ms", "25", "--log-level", "debug"])
    assert (options.home, options.https_port, options.imds_port, options.keyvault_delay_ms,
            options.log_level) == (tmp_path, 0, 0, 25, "debug")
