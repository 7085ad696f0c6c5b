"""Workload identity end to end in local mode, through the real ``kvcsi`` command.

A cluster with its OIDC issuer, a user-assigned identity trusting the issuer for one service
account (federated credential) and holding ``Key Vault Secrets User`` on the vault, and the
bundled CSIDriver (``tokenRequests: [{audience: api://AzureADTokenExchange}]``): the node
requests the pod's service-account token from the cluster's TokenRequest endpoint, passes it
in ``csi.storage.k8s.io/serviceAccount.tokens``, the provider exchanges it at the token
service (client assertion) and the pod mounts the secret. A pod running as another service
account gets ``AADSTS70021`` naming its subject in the FailedMount event.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kvcsi_cli import Kvcsi

SECRET_VALUE = "workload-identity-value"
DRIVER_MANIFESTS = ("secrets-store-csi-driver.yaml", "provider-azure-installer.yaml")
JWT_PREFIX = b"eyJhbGciOi"  # every JWT this project signs starts with {"alg":

pytestmark = pytest.mark.e2e

SPC_AND_POD = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {account}
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: wi-{account}
spec:
  provider: azure
  parameters:
    clientID: "{client_id}"
    keyvaultName: "WiVault"
    tenantId: "{tenant}"
    objects: |
      array:
        - |
          objectName: WiSecret
          objectType: secret
---
apiVersion: v1
kind: Pod
metadata:
  name: app-{account}
spec:
  serviceAccountName: {account}
  containers:
  - name: app
    image: busybox
    volumeMounts:
    - name: secrets
      mountPath: /mnt/secrets
      readOnly: true
  volumes:
  - name: secrets
    csi:
      driver: secrets-store.csi.k8s.io
      readOnly: true
      volumeAttributes:
        secretProviderClass: wi-{account}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    kvcsi = Kvcsi(tmp_path_factory.mktemp("wi") / "home")
    kvcsi.run("up", "-d")
    try:
        kvcsi.run("az", "group", "create", "-n", "rg", "-l", "eastus")
        kvcsi.run("az", "aks", "create", "-g", "rg", "-n", "aks", "--node-count", "1",
                  "--enable-oidc-issuer")
        kvcsi.run("az", "keyvault", "create", "-n", "WiVault", "-g", "rg")
        kvcsi.run("az", "keyvault", "secret", "set", "--vault-name", "WiVault",
                  "--name", "WiSecret", "--value", SECRET_VALUE)
        for manifest in DRIVER_MANIFESTS:
            kvcsi.run("kubectl", "apply", "-f",
                      "https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-"
                      f"provider-azure/master/deploy/{manifest}")
        cluster = json.loads(kvcsi.out("az", "aks", "show", "-g", "rg", "-n", "aks"))
        issuer = cluster["oidcIssuerProfile"]["issuerURL"]
        identity = json.loads(kvcsi.out("az", "identity", "create", "-g", "rg",
                                        "-n", "wi-reader"))
        kvcsi.run("az", "identity", "federated-credential", "create", "-g", "rg",
                  "--identity-name", "wi-reader", "--name", "kubernetes-reader",
                  "--issuer", issuer, "--subject", "system:serviceaccount:wi:reader",
                  "--audiences", "api://AzureADTokenExchange")
        subscription = kvcsi.out("az", "account", "show", "--query", "id", "-o", "tsv")
        kvcsi.run("az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
                  "--assignee", identity["clientId"], "--scope",
                  f"/subscriptions/{subscription}/resourceGroups/rg/providers/"
                  "Microsoft.KeyVault/vaults/WiVault")
        kvcsi.run("kubectl", "apply", "-f", "-",
                  input="apiVersion: v1\nkind: Namespace\nmetadata:\n  name: wi\n")
        yield {"home": str(kvcsi.home), "issuer": issuer, "client_id": identity["clientId"],
               "tenant": kvcsi.out("az", "account", "show", "--query", "tenantId",
                                   "-o", "tsv")}
    finally:
        kvcsi.run("down", check=False)
    leaking = [path for path, data in kvcsi.log_texts().items()
               if SECRET_VALUE.encode() in data or JWT_PREFIX in data]
    assert leaking == []


def _apply_app(kvcsi: Kvcsi, world: dict[str, str], account: str) -> None:
    kvcsi.run("kubectl", "apply", "-n", "wi", "-f", "-", input=SPC_AND_POD.format(
        account=account, client_id=world["client_id"], tenant=world["tenant"]))


def test_pod_with_federated_service_account_mounts_the_secret(world: dict[str, str]) -> None:
    kvcsi = Kvcsi(Path(world["home"]))
    _apply_app(kvcsi, world, "reader")
    kvcsi.run("kubectl", "wait", "--for=condition=Ready", "pod/app-reader", "-n", "wi",
              "--timeout=90s")
    if os.geteuid() == 0:
        mounted = kvcsi.run("kubectl", "exec", "app-reader", "-n", "wi", "--", "cat",
                            "/mnt/secrets/WiSecret")
        assert mounted.stdout == SECRET_VALUE
    kvcsi.run("kubectl", "delete", "pod", "app-reader", "-n", "wi")


def test_wrong_subject_fails_with_aadsts70021_naming_it(world: dict[str, str]) -> None:
    kvcsi = Kvcsi(Path(world["home"]))
    _apply_app(kvcsi, world, "intruder")

    def describe() -> str:
        return kvcsi.run("kubectl", "describe", "pod", "app-intruder", "-n", "wi").stdout

    kvcsi.wait_for(lambda: "AADSTS70021" in describe(), timeout=90)
    text = describe()
    event = text[text.index("Warning  FailedMount"):]
    assert 'MountVolume.SetUp failed for volume "secrets" : rpc error: ' in event
    assert ("AADSTS70021: No matching federated identity record found for presented "
            f"assertion. Assertion Issuer: '{world['issuer']}'. Assertion Subject: "
            "'system:serviceaccount:wi:intruder'. Assertion Audience: "
            "'api://AzureADTokenExchange'.") in " ".join(event.split())
    pods = kvcsi.out("kubectl", "get", "pods", "-n", "wi")
    assert "app-intruder   0/1     ContainerCreating" in pods
    kvcsi.run("kubectl", "delete", "pod", "app-intruder", "-n", "wi")
