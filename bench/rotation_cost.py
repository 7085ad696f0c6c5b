"""What one rotation cycle costs: 200 pods on one node sharing a SecretProviderClass of 10 objects.

One run, one machine, real processes: the local cloud (in this process, so every Key Vault
request can be counted at the HTTP layer, before routing), a one-node AKS cluster, a vault
with 10 secrets and the kubelet identity allowed to read them, made with the ``kvcsi``
command; then the real driver (``secrets-store-csi-driver --enable-secret-rotation``) and
provider (``secrets-store-csi-driver-provider-azure``) processes on their unix sockets.

The bench plays kubelet: NodePublishVolume for 200 pods (first mounts), a new version of
every secret, then one rotation cycle — a republish of all 200 volumes once the poll interval
has passed, in parallel as kubelet's pod workers make them. It prints, for that cycle, the
Key Vault requests (counted by the cloud), the provider Mount calls (the provider's own
``grpc_request`` metric), the cycle time and the driver's memory (RSS from /proc).

Goals: Key Vault requests per cycle = distinct objects (10; upstream's design makes one
provider call per volume, i.e. 200 calls and 2,000 Key Vault reads), driver RSS < 200 MiB.
Usage: ``python bench/rotation_cost.py [--pods 200] [--objects 10] [--keyvault-delay-ms 0]``
(root gives real tmpfs mounts, as on a node).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from kvcsi import netrules
from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.cloud import app as cloud_app
from kvcsi.cloud.runner import InProcessCloud

POLL_INTERVAL_SECONDS = 3
MANIFESTS = ("https://raw.githubusercontent.com/Azure/secrets-store-csi-driver-provider-azure/"
             "master/deploy/{}")


class KeyVaultCounter:
    """Counts Key Vault requests (method, path, status) at the cloud's host router."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.lock = threading.Lock()

    def install(self) -> None:
        original = cloud_app.HostRouter.app_for_host
        counter = self

        def app_for_host(router, host: str):  # type: ignore[no-untyped-def]
            app = original(router, host)
            if not host.lower().split(":")[0].endswith(".vault.localhost"):
                return app

            async def counted(scope, receive, send):  # type: ignore[no-untyped-def]
                status = {"code": 0}

                async def send_and_note(message):  # type: ignore[no-untyped-def]
                    if message["type"] == "http.response.start":
                        status["code"] = message["status"]
                    await send(message)

                await app(scope, receive, send_and_note)
                path = re.sub(r"/[0-9a-f]{32}$", "/<version>", scope.get("path", ""))
                with counter.lock:
                    counter.requests[(scope.get("method", ""), path, status["code"])] += 1

            return counted

        cloud_app.HostRouter.app_for_host = app_for_host  # type: ignore[method-assign]

    def snapshot(self) -> Counter[tuple[str, str, int]]:
        with self.lock:
            return Counter(self.requests)


def kvcsi(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "kvcsi.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kvcsi {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spc_yaml(tenant: str, client_id: str, objects: int) -> str:
    entries = "".join(
        f"        - |\n          objectName: Secret{i}\n          objectType: secret\n"
        for i in range(objects)
    )
    return f"""apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: shared, namespace: default}}
spec:
  provider: azure
  parameters:
    keyvaultName: BenchVault
    tenantId: "{tenant}"
    useVMManagedIdentity: "true"
    userAssignedIdentityID: "{client_id}"
    objects: |
      array:
{entries}"""


def build_world(env: dict[str, str], objects: int) -> dict[str, str]:
    kvcsi(env, "az", "group", "create", "-n", "rg", "-l", "eastus")
    kvcsi(env, "az", "aks", "create", "-g", "rg", "-n", "aks", "--node-count", "1")
    kvcsi(env, "az", "keyvault", "create", "-n", "BenchVault", "-g", "rg")
    for i in range(objects):
        kvcsi(env, "az", "keyvault", "secret", "set", "--vault-name", "BenchVault",
              "--name", f"Secret{i}", "--value", f"value-{i}-v1")
    cluster = json.loads(kvcsi(env, "az", "aks", "show", "-g", "rg", "-n", "aks"))
    client_id = cluster["identityProfile"]["kubeletidentity"]["clientId"]
    sub = kvcsi(env, "az", "account", "show", "--query", "id", "-o", "tsv")
    tenant = kvcsi(env, "az", "account", "show", "--query", "tenantId", "-o", "tsv")
    kvcsi(env, "az", "role", "assignment", "create", "--role", "Key Vault Secrets User",
          "--assignee", client_id, "--scope",
          f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/BenchVault")
    kvcsi(env, "kubectl", "apply", "-f", MANIFESTS.format("secrets-store-csi-driver.yaml"))
    kvcsi(env, "kubectl", "apply", "-f", "-", stdin=spc_yaml(tenant, client_id, objects))
    return {"tenant": tenant}


def start_plugins(home: Path, sockets: Path, log_dir: Path) -> tuple[dict, subprocess.Popen,
                                                                      subprocess.Popen]:
    cluster = json.loads((home / "clusters" / "aks" / "cluster.json").read_text())
    node = cluster["nodes"][0]
    provider_dir, extra_dir = sockets / "p", sockets / "e"
    provider_dir.mkdir()
    extra_dir.mkdir()
    bin_dir = Path(sys.executable).parent
    provider_metrics, driver_metrics = free_port(), free_port()
    base_env = dict(os.environ, KVCSI_LOOPBACK_ONLY="1", KVCSI_RESOLVE_LOCALHOST="1",
                    KVCSI_HOME=str(home))
    provider_env = dict(base_env,
                        AZURE_ENVIRONMENT_FILEPATH=str(home / "cloud" / "environment.json"),
                        AZURE_POD_IDENTITY_AUTHORITY_HOST=node["imdsEndpoint"],
                        REQUESTS_CA_BUNDLE=str(home / "cloud" / "ca.pem"))
    provider = subprocess.Popen(
        [str(bin_dir / "secrets-store-csi-driver-provider-azure"),
         f"--endpoint=unix://{provider_dir}/azure.sock", "--cloud-name=AzureStackCloud",
         "--healthz-port=0", f"--prometheus-port={provider_metrics}"],
        env=provider_env, stdout=(log_dir / "provider.log").open("wb"), stderr=subprocess.STDOUT)
    driver_env = dict(base_env, KVCSI_CLUSTER_STORE=str(home / "clusters" / "aks" / "store.db"))
    driver = subprocess.Popen(
        [str(bin_dir / "secrets-store-csi-driver"), f"--endpoint=unix://{sockets}/csi.sock",
         f"--nodeid={node['name']}", f"--provider-volume={provider_dir}",
         f"--additional-provider-volume-paths={extra_dir}",
         f"--metrics-addr=127.0.0.1:{driver_metrics}", "--enable-secret-rotation=true",
         f"--rotation-poll-interval={POLL_INTERVAL_SECONDS}s"],
        env=driver_env, stdout=(log_dir / "driver.log").open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not ((sockets / "csi.sock").exists() and (provider_dir / "azure.sock").exists()):
        if time.monotonic() > deadline or driver.poll() is not None or provider.poll() is not None:
            raise SystemExit(f"driver/provider did not start; see {log_dir}")
        time.sleep(0.1)
    ports = {"provider_metrics": provider_metrics, "driver_metrics": driver_metrics,
             "node": node["name"]}
    return ports, driver, provider


def metric_total(port: int, pattern: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    regex = re.compile(pattern)
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if not line.startswith("#") and regex.search(line))


def rss_mib(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def publish_request(kubelet: Path, pod: int, uid: str) -> csi_pb2.NodePublishVolumeRequest:
    target = kubelet / "pods" / uid / "volumes" / "kubernetes.io~csi" / "kv" / "mount"
    return csi_pb2.NodePublishVolumeRequest(
        volume_id=f"csi-{uuid.uuid5(uuid.NAMESPACE_URL, uid).hex}", target_path=str(target),
        readonly=True,
        volume_capability=csi_pb2.VolumeCapability(
            mount=csi_pb2.VolumeCapability.MountVolume(),
            access_mode=csi_pb2.VolumeCapability.AccessMode(
                mode=csi_pb2.VolumeCapability.AccessMode.SINGLE_NODE_WRITER)),
        volume_context={
            "secretProviderClass": "shared",
            "csi.storage.k8s.io/pod.name": f"app-{pod}",
            "csi.storage.k8s.io/pod.namespace": "default",
            "csi.storage.k8s.io/pod.uid": uid,
            "csi.storage.k8s.io/serviceAccount.name": "default",
            "csi.storage.k8s.io/ephemeral": "true",
        })


def publish_all(stub: csi_pb2_grpc.NodeStub, requests: list) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda r: stub.NodePublishVolume(r, timeout=120), requests))
    return time.perf_counter() - start


def kv_summary(before: Counter, after: Counter) -> tuple[int, int]:
    delta = after - before
    gets = sum(n for (method, path, status), n in delta.items()
               if method == "GET" and path.startswith("/secrets/") and status == 200)
    return sum(delta.values()), gets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--objects", type=int, default=10)
    parser.add_argument("--keyvault-delay-ms", type=int, default=0)
    args = parser.parse_args()
    netrules.install_loopback_only()
    netrules.install_localhost_resolution()
    os.environ.setdefault("KVCSI_RESOLVE_LOCALHOST", "1")

    work = Path(tempfile.mkdtemp(prefix="kvrc-", dir="/tmp"))
    home, kubelet, sockets = work / "home", work / "kubelet", work / "s"
    for directory in (kubelet, sockets):
        directory.mkdir(parents=True)
    counter = KeyVaultCounter()
    counter.install()
    cloud = InProcessCloud(home, keyvault_delay_ms=args.keyvault_delay_ms).start()
    env = dict(os.environ, KVCSI_HOME=str(home), KVCSI_LOOPBACK_ONLY="1",
               KVCSI_RESOLVE_LOCALHOST="1")
    driver = provider = None
    requests: list = []
    channel = None
    try:
        build_world(env, args.objects)
        ports, driver, provider = start_plugins(home, sockets, work)
        channel = grpc.insecure_channel(f"unix:{sockets}/csi.sock")
        stub = csi_pb2_grpc.NodeStub(channel)
        requests = [publish_request(kubelet, i, str(uuid.uuid4())) for i in range(args.pods)]

        before = counter.snapshot()
        mount_seconds = publish_all(stub, requests)
        mount_total, mount_gets = kv_summary(before, counter.snapshot())

        for i in range(args.objects):  # a new version of every secret
            kvcsi(env, "az", "keyvault", "secret", "set", "--vault-name", "BenchVault",
                  "--name", f"Secret{i}", "--value", f"value-{i}-v2")
        time.sleep(POLL_INTERVAL_SECONDS + 0.5)

        mount_calls = 'grpc_request_count{.*grpc_method="/v1alpha1.CSIDriverProvider/Mount"'
        calls_before = metric_total(ports["provider_metrics"], mount_calls)
        before = counter.snapshot()
        cycle_seconds = publish_all(stub, requests)
        cycle_total, cycle_gets = kv_summary(before, counter.snapshot())
        provider_calls = metric_total(ports["provider_metrics"], mount_calls) - calls_before
        rotated = metric_total(ports["driver_metrics"], r"^rotation_reconcile_total\{")
        rss, peak = rss_mib(driver.pid)
        last = Path(requests[-1].target_path) / f"Secret{args.objects - 1}"
        content_ok = last.read_text() == f"value-{args.objects - 1}-v2"

        print(f"pods on the node                      {args.pods}")
        print(f"objects in the SecretProviderClass    {args.objects}")
        print(f"first mounts: {mount_seconds:6.2f} s        Key Vault requests {mount_total} "
              f"({mount_gets} secret reads)")
        print("one rotation cycle (every volume republished once the poll interval passed):")
        print(f"  Key Vault requests per cycle        {cycle_total} ({cycle_gets} secret reads)")
        print(f"  provider Mount calls per cycle      {provider_calls:.0f}")
        print(f"  volumes rotated                     {rotated:.0f}")
        print(f"  cycle time                          {cycle_seconds * 1000:.0f} ms")
        print(f"  new content in the last volume      {'yes' if content_ok else 'NO'}")
        print(f"driver memory                         RSS {rss:.1f} MiB (peak {peak:.1f} MiB)")
        print(f"upstream design, same cycle           {args.pods} provider calls, "
              f"{args.pods * args.objects} Key Vault reads")
        goal_requests = cycle_total == args.objects
        goal_memory = peak < 200
        print(f"goal: Key Vault requests per cycle == {args.objects}: "
              f"{'met' if goal_requests else 'NOT met'}; driver memory < 200 MiB: "
              f"{'met' if goal_memory else 'NOT met'}")
        return 0 if goal_requests and goal_memory and content_ok else 1
    finally:
        if channel is not None:
            stub = csi_pb2_grpc.NodeStub(channel)
            for request in requests:
                try:
                    stub.NodeUnpublishVolume(csi_pb2.NodeUnpublishVolumeRequest(
                        volume_id=request.volume_id, target_path=request.target_path))
                except grpc.RpcError:
                    pass
            channel.close()
        for process in (driver, provider):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        cloud.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
