"""The seed walkthrough end to end, through the real ``kvcsi`` command and every process.

``test_walkthrough_command_for_command`` runs the issue's command list as a shell script.
The other tests share one local cloud + one-node cluster and check what users hit on the
way: a missing role assignment, the seed's YAML as written, and their own apps using the
official SDK configured by ``kvcsi env``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

from tests.support.kvcsi_cli import Kvcsi

HERE = Path(__file__).parent
POD_TEMPLATE = Path(__file__).parents[2] / "src" / "kvcsi" / "cli" / "demo" / "pod.yaml"
SECRET_VALUE = "SuperSecretValue"

pytestmark = pytest.mark.e2e


def _assert_no_secret_in_logs(kvcsi: Kvcsi, value: str) -> None:
    logs = kvcsi.log_texts()
    assert logs, "expected log files under $KVCSI_HOME"
    leaking = [path for path, data in logs.items() if value.encode() in data]
    assert leaking == []


def _assert_no_mounts_under(path: Path) -> None:
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(path) not in mounts


@pytest.mark.requires_root
def test_walkthrough_command_for_command(tmp_path: Path) -> None:
    kvcsi = Kvcsi(tmp_path / "home")
    env = dict(kvcsi.env, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    try:
        done = subprocess.run(["bash", str(HERE / "walkthrough.sh"), str(POD_TEMPLATE)],
                              env=env, capture_output=True, text=True, timeout=300)
    finally:
        kvcsi.run("down", check=False)  # the script's own `kvcsi down` may not be reached
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"MOUNTED={SECRET_VALUE}" in lines
    assert "644 16" in lines  # mode 0644, 16 bytes: no newline added
    assert "tmpfs" in lines
    assert "pod/mypod condition met" in lines
    _assert_no_secret_in_logs(kvcsi, SECRET_VALUE)
    _assert_no_mounts_under(kvcsi.home)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running local cloud with one resource group, a one-node cluster, a vault and a
    secret, and the driver and provider installed — but no role assignment."""
    kvcsi = Kvcsi(tmp_path_factory.mktemp("world") / "home")
    kvcsi.run("up", "-d")
    try:
        kvcsi.run("az", "group", "create", "-n", "rg", "-l", "eastus")
        kvcsi.run("az", "aks", "create", "-g", "rg", "-n", "aks", "--node-count", "1")
        kvcsi.run("az", "keyvault", "create", "-n", "MyKeyVault", "-g", "rg")
        kvcsi.run("az", "keyvault", "secret", "set", "--vault-name", "MyKeyVault",
                  "--name", "MySecret", "--value", SECRET_VALUE)
        for manifest in ("secrets-store-csi-driver.yaml", "provider-azure-installer.yaml"):
            kvcsi.run("kubectl", "apply", "-f",
                      "https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-"
                      f"provider-azure/master/deploy/{manifest}")
        cluster = json.loads(kvcsi.out("az", "aks", "show", "-g", "rg", "-n", "aks"))
        world = {
            "home": str(kvcsi.home),
            "tenant": kvcsi.out("az", "account", "show", "--query", "tenantId", "-o", "tsv"),
            "sub": kvcsi.out("az", "account", "show", "--query", "id", "-o", "tsv"),
            "kubelet_client_id": cluster["identityProfile"]["kubeletidentity"]["clientId"],
            "kubelet_object_id": cluster["identityProfile"]["kubeletidentity"]["objectId"],
        }
        yield world
    finally:
        kvcsi.run("down", check=False)
    _assert_no_secret_in_logs(kvcsi, SECRET_VALUE)
    _assert_no_mounts_under(kvcsi.home)


def _kvcsi(world: dict[str, str]) -> Kvcsi:
    return Kvcsi(Path(world["home"]))


def _vault_scope(world: dict[str, str], vault: str) -> str:
    return (f"/subscriptions/{world['sub']}/resourceGroups/rg/providers/"
            f"Microsoft.KeyVault/vaults/{vault}")


def _pod_events(kvcsi: Kvcsi, namespace: str, pod: str) -> str:
    return kvcsi.run("kubectl", "describe", "pod", pod, "-n", namespace).stdout


def _namespace(kvcsi: Kvcsi, name: str) -> None:
    kvcsi.run("kubectl", "apply", "-f", "-",
              input=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")


def test_missing_role_assignment_is_explained_then_next_retry_mounts(world: dict) -> None:
    kvcsi = _kvcsi(world)
    _namespace(kvcsi, "rbac")
    pod_yaml = POD_TEMPLATE.read_text().replace("<azure-tenant-id>", world["tenant"])
    kvcsi.run("kubectl", "apply", "-n", "rbac", "-f", "-", input=pod_yaml)

    def forbidden_event() -> bool:
        return "ForbiddenByRbac" in _pod_events(kvcsi, "rbac", "mypod")

    kvcsi.wait_for(forbidden_event, timeout=60)
    describe = _pod_events(kvcsi, "rbac", "mypod")
    event_line = describe[describe.index("Warning  FailedMount"):]
    assert ('MountVolume.SetUp failed for volume "secrets-store01-inline" : rpc error: '
            "code = Unknown desc = failed to mount secrets store objects for pod rbac/mypod, "
            "err: rpc error: code = Unknown desc = failed to mount objects, error: "
            "failed to get objectType:secret, objectName:MySecret, objectVersion:") in event_line
    assert "Microsoft.KeyVault/vaults/secrets/getSecret/action" in event_line
    assert f"oid={world['kubelet_object_id']}" in event_line
    waited = kvcsi.run("kubectl", "wait", "--for=condition=Ready", "pod/mypod", "-n", "rbac",
                       "--timeout=1s", check=False)
    assert waited.returncode == 1
    assert waited.stderr.strip() == "error: timed out waiting for the condition on pods/mypod"

    kvcsi.run("az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
              "--assignee", world["kubelet_client_id"],
              "--scope", _vault_scope(world, "MyKeyVault"))
    kvcsi.run("kubectl", "wait", "--for=condition=Ready", "pod/mypod", "-n", "rbac",
              "--timeout=60s")
    mounted = kvcsi.run("kubectl", "exec", "mypod", "-n", "rbac", "--", "cat",
                        "/mnt/secrets/MySecret")
    if os.geteuid() == 0:
        assert mounted.stdout == SECRET_VALUE
    kvcsi.run("kubectl", "delete", "pod", "mypod", "-n", "rbac")


def test_seed_yaml_verbatim_is_refused_like_kubectl_and_pod_waits(world: dict) -> None:
    kvcsi = _kvcsi(world)
    _namespace(kvcsi, "seed")
    seed = HERE / "seed_pod.yaml"
    done = kvcsi.run("kubectl", "apply", "-n", "seed", "-f", str(seed), check=False)
    assert done.returncode == 1
    assert done.stdout.strip() == "pod/mypod created"
    assert (f'error: resource mapping not found for name: "azure-kvname" namespace: "" '
            f'from "{seed}": no matches for kind "SecretProviderClass" in version '
            '"secrets-store.csi.k8s.io/v1alpha1"') in done.stderr
    assert "ensure CRDs are installed first" in done.stderr
    assert "apiVersion: secrets-store.csi.x-k8s.io/v1" in done.stderr

    def spc_missing_event() -> bool:
        return "FailedMount" in _pod_events(kvcsi, "seed", "mypod")

    kvcsi.wait_for(spc_missing_event, timeout=60)
    describe = _pod_events(kvcsi, "seed", "mypod")
    assert re.search(r"failed to get secretproviderclass seed/azure-kvname, error: "
                     r".*azure-kvname.*not found", describe), describe
    pods = kvcsi.out("kubectl", "get", "pods", "-n", "seed")
    assert re.search(r"mypod\s+0/1\s+ContainerCreating", pods), pods
    kvcsi.run("kubectl", "delete", "pod", "mypod", "-n", "seed")


def _exports(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            found[name] = shlex.split(value)[0] if value else ""
    return found


def test_official_sdk_configured_by_kvcsi_env(world: dict,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    kvcsi = _kvcsi(world)
    kvcsi.run("az", "keyvault", "create", "-n", "SdkVault", "-g", "rg")
    kvcsi.run("az", "keyvault", "secret", "set", "--vault-name", "SdkVault", "--name", "AppKey",
              "--value", "app-value-1")
    exports = _exports(kvcsi.out("env"))
    assert exports["AZURE_POD_IDENTITY_AUTHORITY_HOST"].startswith("http://127.0.0.1:")
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    port = exports["AZURE_AUTHORITY_HOST"].rstrip("/").rsplit(":", 1)[1]
    client = SecretClient(f"https://sdkvault.vault.localhost:{port}/",
                          ManagedIdentityCredential())

    with pytest.raises(HttpResponseError) as denied:
        client.get_secret("AppKey")
    assert denied.value.status_code == 403
    assert denied.value.error.code == "Forbidden"
    assert "Microsoft.KeyVault/vaults/secrets/getSecret/action" in denied.value.message
    assert f"oid={world['kubelet_object_id']}" in denied.value.message

    kvcsi.run("az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
              "--assignee", world["kubelet_client_id"], "--scope", _vault_scope(world, "SdkVault"))
    assert client.get_secret("AppKey").value == "app-value-1"


def test_pod_before_the_driver_is_installed_gets_kubelets_event(tmp_path: Path) -> None:
    kvcsi = Kvcsi(tmp_path / "home")
    kvcsi.run("up", "-d")
    try:
        kvcsi.run("az", "group", "create", "-n", "rg", "-l", "eastus")
        kvcsi.run("az", "aks", "create", "-g", "rg", "-n", "bare", "--node-count", "1")
        pod_yaml = POD_TEMPLATE.read_text().replace("<azure-tenant-id>", "t")
        pod_only = pod_yaml.split("\n---\n")[0]
        assert kvcsi.run("kubectl", "apply", "-f", "-", input=pod_only).stdout.strip() \
            == "pod/mypod created"
        expected = ('MountVolume.SetUp failed for volume "secrets-store01-inline" : '
                    "kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name "
                    "secrets-store.csi.k8s.io not found in the list of registered CSI drivers")
        kvcsi.wait_for(lambda: expected in _pod_events(kvcsi, "default", "mypod"), timeout=30)
        assert "FailedMount" in _pod_events(kvcsi, "default", "mypod")
    finally:
        kvcsi.run("down", check=False)
