"""``kvcsi demo``: the seed walkthrough, command for command, in a throwaway state dir.

Every step runs the real ``kvcsi`` command in a child process, exactly as a user types it
(shell variables such as ``$AKS_IDENTITY`` are filled from earlier steps' output), and the
transcript is printed as it goes. The last steps print the secret as the pod sees it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

RESOURCE_GROUP = "MyResourceGroup"
CLUSTER = "MyAKSCluster"
VAULT = "MyKeyVault"
SCOPE = ("/subscriptions/$SUB/resourceGroups/MyResourceGroup/providers/"
         "Microsoft.KeyVault/vaults/MyKeyVault")
DRIVER_URL = ("https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/"
              "master/deploy/secrets-store-csi-driver.yaml")
PROVIDER_URL = ("https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/"
                "master/deploy/provider-azure-installer.yaml")

# (variable to capture or None, command words; "$NAME" words are substituted)
STEPS: list[tuple[str | None, list[str]]] = [
    (None, ["up", "-d"]),
    (None, ["az", "group", "create", "--name", RESOURCE_GROUP, "--location", "eastus"]),
    (None, ["az", "aks", "create", "--resource-group", RESOURCE_GROUP, "--name", CLUSTER]),
    (None, ["az", "keyvault", "create", "--name", VAULT, "--resource-group", RESOURCE_GROUP,
            "--location", "eastus"]),
    (None, ["az", "keyvault", "secret", "set", "--vault-name", VAULT, "--name", "MySecret",
            "--value", "SuperSecretValue"]),
    ("AKS_IDENTITY", ["az", "aks", "show", "--resource-group", RESOURCE_GROUP, "--name", CLUSTER,
                      "--query", "identityProfile.kubeletidentity.clientId", "-o", "tsv"]),
    ("SUB", ["az", "account", "show", "--query", "id", "-o", "tsv"]),
    ("TENANT", ["az", "account", "show", "--query", "tenantId", "-o", "tsv"]),
    (None, ["az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
            "--assignee", "$AKS_IDENTITY", "--scope", SCOPE]),
    (None, ["kubectl", "apply", "-f", DRIVER_URL]),
    (None, ["kubectl", "apply", "-f", PROVIDER_URL]),
    (None, ["kubectl", "apply", "-f", "$POD_YAML"]),
    (None, ["kubectl", "wait", "--for=condition=Ready", "pod/mypod", "--timeout=60s"]),
    ("MOUNTED", ["kubectl", "exec", "mypod", "--", "cat", "/mnt/secrets/MySecret"]),
]


def _substitute(words: list[str], variables: dict[str, str]) -> list[str]:
    result = []
    for word in words:
        for name, value in variables.items():
            word = word.replace(f"${name}", value)
        result.append(word)
    return result


def _show(words: list[str], capture: str | None) -> str:
    text = "kvcsi " + " ".join(f'"{w}"' if " " in w else w for w in words)
    return f"{capture}=$({text})" if capture else text


def run(keep: bool = False) -> int:
    home = Path(tempfile.mkdtemp(prefix="kvcsi-demo-"))
    env = dict(os.environ, KVCSI_HOME=str(home), KVCSI_HTTPS_PORT="0", KVCSI_IMDS_PORT="0")
    template = resources.files("kvcsi.cli.demo").joinpath("pod.yaml").read_text()
    pod_yaml = home / "pod.yaml"
    variables: dict[str, str] = {"POD_YAML": str(pod_yaml)}
    print(f"# kvcsi demo: the seed walkthrough on the local default (state in {home})")
    status = 0
    try:
        for capture, words in STEPS:
            if "TENANT" in variables and not pod_yaml.exists():
                pod_yaml.write_text(template.replace("<azure-tenant-id>", variables["TENANT"]))
                print(f"\n# pod.yaml: the seed's Pod + SecretProviderClass, apiVersion "
                      f"secrets-store.csi.x-k8s.io/v1, tenantId {variables['TENANT']}")
            command = _substitute(words, variables)
            print(f"\n$ {_show(words, capture)}", flush=True)
            done = subprocess.run([sys.executable, "-m", "kvcsi.cli", *command], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            output = done.stdout.rstrip("\n")
            if output:
                print(output if capture is None or capture == "MOUNTED" else f"# {output}")
            if done.returncode != 0:
                print(f"# step failed with exit status {done.returncode}", file=sys.stderr)
                status = done.returncode
                break
            if capture:
                variables[capture] = output.strip()
        if status == 0:
            print(f"\n# The pod reads {variables['MOUNTED']!r} from /mnt/secrets/MySecret.")
    finally:
        print("\n$ kvcsi down", flush=True)
        subprocess.run([sys.executable, "-m", "kvcsi.cli", "down"], env=env, check=False)
        if keep:
            print(f"# state kept in {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    return status
