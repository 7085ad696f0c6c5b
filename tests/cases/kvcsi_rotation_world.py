"""A running local world for the sync and rotation cases (BB-12, BB-14), through ``kvcsi``.

``kvcsi up -d``, a resource group, a one-node AKS cluster, ``MyKeyVault`` with ``MySecret``
= ``s3cr3t``, the kubelet identity as *Key Vault Secrets User*, the driver and provider
installed from the upstream URLs, and namespace ``myns``. Helpers enable rotation the way a
user does (edit the driver DaemonSet's args and apply it) and give the node runtime a short
republish period (kubelet's sync period; ``python -m kvcsi.node --sync-period``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.kvcsi_cli import Kvcsi

MANIFEST_URL = ("https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/"
                "master/deploy/{}")
SPC_TEMPLATE = """apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: my-spc, namespace: myns}}
spec:
  provider: azure
  secretObjects:
  - secretName: app-secret
    type: Opaque
    labels: {{team: a}}
    data:
    - objectName: {sync_object}
      key: password
  parameters:
    keyvaultName: MyKeyVault
    tenantId: "{tenant}"
    useVMManagedIdentity: "true"
    userAssignedIdentityID: "{client_id}"
    objects: |
      array:
        - |
          objectName: MySecret
          objectType: secret
          objectAlias: db-password
"""
POD_YAML = """apiVersion: v1
kind: Pod
metadata: {name: mypod, namespace: myns}
spec:
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: kv, mountPath: /mnt/secrets-store, readOnly: true}
  volumes:
  - name: kv
    csi:
      driver: secrets-store.csi.k8s.io
      readOnly: true
      volumeAttributes: {secretProviderClass: my-spc}
"""


@dataclass
class RotationWorld:
    kvcsi: Kvcsi
    tenant: str
    client_id: str
    node: subprocess.Popen | None = field(default=None)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True):
        return self.kvcsi.run("kubectl", *args, input=input, check=check)

    def apply(self, text: str) -> None:
        self.kubectl("apply", "-f", "-", input=text)

    def apply_spc(self, sync_object: str) -> None:
        self.apply(SPC_TEMPLATE.format(sync_object=sync_object, tenant=self.tenant,
                                       client_id=self.client_id))

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def set_secret(self, value: str) -> str:
        done = self.kvcsi.run("az", "keyvault", "secret", "set", "--vault-name", "MyKeyVault",
                              "--name", "MySecret", "--value", value)
        return json.loads(done.stdout)["id"].rsplit("/", 1)[1]

    def pod_events(self) -> list[dict]:
        events = self.get("events", "-n", "myns")["items"]
        return [e for e in events if e["involvedObject"].get("name") == "mypod"]

    def mounted_file(self, name: str) -> Path:
        uid = self.get("pod", "mypod", "-n", "myns")["metadata"]["uid"]
        nodes = sorted((self.kvcsi.home / "clusters" / "aks" / "nodes").iterdir())
        return nodes[0] / "pods" / uid / "volumes" / "kubernetes.io~csi" / "kv" / "mount" / name

    def enable_rotation(self, poll_interval: str) -> None:
        """What a user does: the driver DaemonSet's args get the two upstream flags."""
        daemonset = self.get("daemonset", "csi-secrets-store", "-n", "kube-system")
        for container in daemonset["spec"]["template"]["spec"]["containers"]:
            if container["name"] == "secrets-store":
                args = [a for a in container["args"] if "rotation" not in a]
                container["args"] = [*args, "--enable-secret-rotation=true",
                                     f"--rotation-poll-interval={poll_interval}"]
        self.apply(json.dumps(daemonset))

    def restart_node(self, sync_period: float) -> None:
        """Run the node runtime (kubelet) with a short republish period."""
        home = self.kvcsi.home
        pid = int((home / "run" / "node.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):  # never run two kubelets on one node
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        (home / "run" / "node.ready").unlink(missing_ok=True)
        env = dict(self.kvcsi.env, KVCSI_LOOPBACK_ONLY="1", KVCSI_RESOLVE_LOCALHOST="1",
                   PYTHONUNBUFFERED="1")
        log = (home / "logs" / "node.log").open("ab")
        self.node = subprocess.Popen(
            [sys.executable, "-m", "kvcsi.node", "--home", str(home),
             "--sync-period", str(sync_period)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        (home / "run" / "node.pid").write_text(f"{self.node.pid}\n")
        self.kvcsi.wait_for(lambda: (home / "run" / "node.ready").exists(), timeout=90)

    def stop(self) -> None:
        if self.node is not None and self.node.poll() is None:
            self.node.terminate()
            self.node.wait(timeout=60)
        self.kvcsi.run("down", check=False)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (OSError, IndexError):
        return False
    return state != "Z"


def build_world(home: Path) -> RotationWorld:
    kvcsi = Kvcsi(home)
    kvcsi.run("up", "-d")
    kvcsi.run("az", "group", "create", "-n", "rg", "-l", "eastus")
    kvcsi.run("az", "aks", "create", "-g", "rg", "-n", "aks", "--node-count", "1")
    kvcsi.run("az", "keyvault", "create", "-n", "MyKeyVault", "-g", "rg")
    kvcsi.run("az", "keyvault", "secret", "set", "--vault-name", "MyKeyVault", "--name",
              "MySecret", "--value", "s3cr3t")
    cluster = json.loads(kvcsi.out("az", "aks", "show", "-g", "rg", "-n", "aks"))
    client_id = cluster["identityProfile"]["kubeletidentity"]["clientId"]
    sub = kvcsi.out("az", "account", "show", "--query", "id", "-o", "tsv")
    kvcsi.run("az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
              "--assignee", client_id, "--scope",
              f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/"
              "MyKeyVault")
    for manifest in ("secrets-store-csi-driver.yaml", "provider-azure-installer.yaml"):
        kvcsi.run("kubectl", "apply", "-f", MANIFEST_URL.format(manifest))
    kvcsi.run("kubectl", "apply", "-f", "-",
              input="apiVersion: v1\nkind: Namespace\nmetadata:\n  name: myns\n")
    tenant = kvcsi.out("az", "account", "show", "--query", "tenantId", "-o", "tsv")
    return RotationWorld(kvcsi, tenant, client_id)
