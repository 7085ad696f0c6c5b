"""NodePublishVolume latency for the walkthrough's SecretProviderClass, next to its floor.

One run, one machine, everything real: ``kvcsi up`` in a throwaway state dir, the
walkthrough's world (one-node cluster, vault, secret, role assignment, driver + provider
installed, the seed's SecretProviderClass), then:

* cold  — the first NodePublishVolume the node's driver serves (fresh provider: no cached
  credential, token or connection);
* warm  — later NodePublishVolume calls, each on a new target path as kubelet would make
  for new pods (driver → provider → IMDS/Key Vault → tmpfs write);
* floor — the unmodified ``azure-keyvault-secrets`` SDK fetching the same secret over an
  already-open connection with a cached token, in this process.

Prints p50/p95 of each and the warm/floor ratio. Usage: ``python bench/mount_latency.py
[--samples N]`` (root gives real tmpfs mounts, as on a node).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc

from kvcsi import netrules
from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.node.socket_paths import short_dir

SPC_YAML = """apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: azure-kvname
spec:
  provider: azure
  parameters:
    usePodIdentity: "false"
    useVMManagedIdentity: "true"
    userAssignedIdentityID: ""
    keyvaultName: "MyKeyVault"
    cloudName: ""
    objects: |
      array:
        - |
          objectName: MySecret
          objectType: secret
    tenantId: "{tenant}"
"""
MANIFESTS = ("https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/"
             "master/deploy/{}")


def kvcsi(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "kvcsi.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kvcsi {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def build_world(env: dict[str, str]) -> dict[str, str]:
    kvcsi(env, "up", "-d")
    kvcsi(env, "az", "group", "create", "--name", "MyResourceGroup", "--location", "eastus")
    kvcsi(env, "az", "aks", "create", "-g", "MyResourceGroup", "-n", "MyAKSCluster",
          "--node-count", "1")
    kvcsi(env, "az", "keyvault", "create", "-n", "MyKeyVault", "-g", "MyResourceGroup")
    kvcsi(env, "az", "keyvault", "secret", "set", "--vault-name", "MyKeyVault", "--name",
          "MySecret", "--value", "SuperSecretValue")
    client_id = kvcsi(env, "az", "aks", "show", "-g", "MyResourceGroup", "-n", "MyAKSCluster",
                      "--query", "identityProfile.kubeletidentity.clientId", "-o", "tsv")
    sub = kvcsi(env, "az", "account", "show", "--query", "id", "-o", "tsv")
    tenant = kvcsi(env, "az", "account", "show", "--query", "tenantId", "-o", "tsv")
    kvcsi(env, "az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
          "--assignee", client_id, "--scope",
          f"/subscriptions/{sub}/resourceGroups/MyResourceGroup/providers/"
          "Microsoft.KeyVault/vaults/MyKeyVault")
    for manifest in ("secrets-store-csi-driver.yaml", "provider-azure-installer.yaml"):
        kvcsi(env, "kubectl", "apply", "-f", MANIFESTS.format(manifest))
    kvcsi(env, "kubectl", "apply", "-f", "-", stdin=SPC_YAML.format(tenant=tenant))
    return {"tenant": tenant}


def node_dir(home: Path) -> Path:
    nodes = sorted((home / "clusters" / "MyAKSCluster" / "nodes").iterdir())
    return nodes[0]


def wait_for_plugins(home: Path, timeout: float = 60) -> Path:
    """The driver socket once the driver answers and the provider socket exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            node = node_dir(home)
        except FileNotFoundError:
            time.sleep(0.1)
            continue
        driver_dir = node / "plugins" / "csi-secrets-store"
        provider_sock = short_dir(node / "providers", "azure.sock") / "azure.sock"
        socket_path = short_dir(driver_dir) / "csi.sock"
        if socket_path.exists() and provider_sock.exists():
            return socket_path
        time.sleep(0.1)
    raise SystemExit("driver/provider sockets did not appear")


def publish_request(node: Path, index: int) -> tuple[csi_pb2.NodePublishVolumeRequest, str]:
    pod_uid = str(uuid.uuid4())
    target = node / "pods" / pod_uid / "volumes" / "kubernetes.io~csi" / "bench" / "mount"
    capability = csi_pb2.VolumeCapability(
        mount=csi_pb2.VolumeCapability.MountVolume(),
        access_mode=csi_pb2.VolumeCapability.AccessMode(
            mode=csi_pb2.VolumeCapability.AccessMode.SINGLE_NODE_READER_ONLY))
    request = csi_pb2.NodePublishVolumeRequest(
        volume_id=f"csi-bench-{index}", target_path=str(target), volume_capability=capability,
        readonly=True,
        volume_context={
            "secretProviderClass": "azure-kvname",
            "csi.storage.k8s.io/pod.name": f"bench-{index}",
            "csi.storage.k8s.io/pod.namespace": "default",
            "csi.storage.k8s.io/pod.uid": pod_uid,
            "csi.storage.k8s.io/serviceAccount.name": "default",
            "csi.storage.k8s.io/ephemeral": "true",
        })
    return request, str(target)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def measure(home: Path, samples: int) -> dict[str, object]:
    socket_path = wait_for_plugins(home)
    node = node_dir(home)
    channel = grpc.insecure_channel(f"unix:{socket_path}")
    stub = csi_pb2_grpc.NodeStub(channel)
    published: list[tuple[str, str]] = []

    def publish(index: int) -> None:
        request, target = publish_request(node, index)
        stub.NodePublishVolume(request, timeout=60)
        published.append((request.volume_id, target))
        content = (Path(target) / "MySecret").read_bytes()
        assert content == b"SuperSecretValue", content

    cold = timed(lambda: publish(0))
    warm = [timed(lambda i=i: publish(i)) for i in range(1, samples + 1)]
    for volume_id, target in published:
        stub.NodeUnpublishVolume(csi_pb2.NodeUnpublishVolumeRequest(
            volume_id=volume_id, target_path=target), timeout=30)
    channel.close()
    return {"cold_ms": cold, "warm_ms": warm}


def measure_floor(home: Path, samples: int) -> list[float]:
    from azure.identity import ManagedIdentityCredential
    from azure.keyvault.secrets import SecretClient

    endpoints = json.loads((home / "cloud" / "endpoints.json").read_text())
    cluster = json.loads((home / "clusters" / "MyAKSCluster" / "cluster.json").read_text())
    os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = cluster["nodes"][0]["imdsEndpoint"]
    os.environ["REQUESTS_CA_BUNDLE"] = endpoints["ca_bundle"]
    vault = f"https://mykeyvault.{endpoints['keyvault_dns_suffix']}/"
    client = SecretClient(vault, ManagedIdentityCredential())
    client.get_secret("MySecret")  # open the connection, cache the token
    return [timed(lambda: client.get_secret("MySecret")) for _ in range(samples)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    netrules.install_loopback_only()
    netrules.install_localhost_resolution()
    home = Path(tempfile.mkdtemp(prefix="kvcsi-bench-"))
    env = dict(os.environ, KVCSI_HOME=str(home), KVCSI_HTTPS_PORT="0", KVCSI_IMDS_PORT="0",
               KVCSI_LOOPBACK_ONLY="1", KVCSI_RESOLVE_LOCALHOST="1")
    try:
        build_world(env)
        mounts = measure(home, args.samples)
        floor = measure_floor(home, args.samples)
    finally:
        kvcsi(env, "down")
    warm_p50, warm_p95 = percentiles(mounts["warm_ms"])  # type: ignore[arg-type]
    floor_p50, floor_p95 = percentiles(floor)
    print(f"mount_latency (samples={args.samples}, root={os.geteuid() == 0})")
    print(f"  cold NodePublishVolume      {mounts['cold_ms']:8.2f} ms")
    print(f"  warm NodePublishVolume  p50 {warm_p50:8.2f} ms   p95 {warm_p95:8.2f} ms")
    print(f"  floor SDK get_secret    p50 {floor_p50:8.2f} ms   p95 {floor_p95:8.2f} ms")
    print(f"  ratio warm/floor        p50 {warm_p50 / floor_p50:8.2f}x  "
          f"p95 {warm_p95 / floor_p95:8.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
