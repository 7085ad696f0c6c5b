"""Provider Mount time for 1, 10 and 50 secrets, and token requests over 1,000 mounts.

One run, everything real and local: the local cloud (``kvcsi-cloud``, its own process) with
``--keyvault-delay-ms`` standing for the network round trip to a real vault, the provider
(``secrets-store-csi-driver-provider-azure``, its own process, flags and environment as
``kvcsi up`` gives it) and gRPC ``Mount`` calls over its unix socket, as the driver makes them.
The provider authenticates as a VM's user-assigned managed identity through the local IMDS;
a small counting proxy in front of that IMDS counts the token requests.

For each delay (default 0 ms and 20 ms) it prints the warm Mount time (median and p90 over
``--samples`` calls, after one warm-up call) for 1, 10 and 50 secret objects, the ratio
of the 50-object to the 1-object mount, and the 50-object mount with the fetch pool set to 1
(``KVCSI_PROVIDER_FETCH_CONCURRENCY=1``: one by one, as upstream fetches). It also makes
``--mounts`` (1,000) mounts as one identity and prints how many token requests reached IMDS.
Goals: at 20 ms the 50-object mount takes at most 3x the 1-object mount; at most one token
request per identity per token lifetime (IMDS tokens live 24 h here, so: 1).

Usage: ``python bench/provider_mount.py [--delays 0,20] [--samples 15] [--mounts 1000]``.
Seeding reuses ``tests/support/local_cloud.py`` (the contract-shaped documents of §3.1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support.local_cloud import CloudSeed  # noqa: E402

from kvcsi import netrules  # noqa: E402
from kvcsi._proto import provider_pb2, provider_pb2_grpc  # noqa: E402
from kvcsi.cloud.arm import ids, rbac, roles  # noqa: E402
from kvcsi.cloud.store import CloudStore  # noqa: E402

VAULT = "benchvault"
SIZES = (1, 10, 50)
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


class TokenCountingProxy:
    """Forwards IMDS requests to the local IMDS and counts token requests."""

    def __init__(self, upstream: str) -> None:
        self.token_requests = 0
        counter = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if "/metadata/identity/oauth2/token" in self.path:
                    with lock:
                        counter.token_requests += 1
                request = urllib.request.Request(upstream + self.path,
                                                 headers={"Metadata": "true"})
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, body = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, body = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.05)


def child_env(home: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, KVCSI_HOME=str(home), KVCSI_LOOPBACK_ONLY="1",
                KVCSI_RESOLVE_LOCALHOST="1", **extra)


@contextmanager
def local_cloud(home: Path, delay_ms: int) -> Iterator[dict[str, Any]]:
    endpoints_file = home / "cloud" / "endpoints.json"
    endpoints_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "kvcsi.cloud", "--home", str(home), "--https-port", "0",
         "--imds-port", "0", "--keyvault-delay-ms", str(delay_ms), "--log-level", "warning"],
        env=child_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(endpoints_file)
        yield json.loads(endpoints_file.read_text())
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def provider(home: Path, endpoints: dict[str, Any], imds: str,
             concurrency: int | None = None) -> Iterator[Any]:
    socket_path = Path(tempfile.mkdtemp(prefix="kvcsi-bench-")) / "azure.sock"
    extra = {"KVCSI_PROVIDER_FETCH_CONCURRENCY": str(concurrency)} if concurrency else {}
    process = subprocess.Popen(
        [sys.executable, "-m", "kvcsi.provider", "--endpoint", f"unix://{socket_path}",
         "--cloud-name", "AzureStackCloud", "--healthz-port", "0", "--prometheus-port", "0"],
        env=child_env(home, AZURE_ENVIRONMENT_FILEPATH=str(home / "cloud" / "environment.json"),
                      AZURE_POD_IDENTITY_AUTHORITY_HOST=imds,
                      REQUESTS_CA_BUNDLE=endpoints["ca_bundle"], **extra),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(socket_path)
        with grpc.insecure_channel(f"unix:{socket_path}") as channel:
            yield provider_pb2_grpc.CSIDriverProviderStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def seed(home: Path, endpoints: dict[str, Any]) -> tuple[str, str]:
    """Vault, a VM with one user-assigned identity holding Secrets User, 50 secrets."""
    from azure.identity import ClientSecretCredential
    from azure.keyvault.secrets import SecretClient

    store = CloudStore(home / "cloud" / "state.db")
    cloud_seed = CloudSeed(store, endpoints)
    vault = cloud_seed.vault(VAULT)
    vm = cloud_seed.scale_set_vm(user_assigned=1)
    identity = vm.user_assigned[0]["properties"]
    scope = vault["id"]
    name = str(uuid.uuid4())
    assignment = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    store.put("arm", ids.key(assignment), {
        "id": assignment, "name": name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": roles.role_definition_id(cloud_seed.subscription_id,
                                                                    SECRETS_USER),
                       "principalId": identity["principalId"],
                       "principalType": "ServicePrincipal", "scope": scope}},
        parent=rbac.assignments_collection(scope))
    account = json.loads((home / "cloud" / "cli-credential.json").read_text())
    credential = ClientSecretCredential(account["tenantId"], account["clientId"],
                                        account["clientSecret"],
                                        authority=endpoints["authority"].rstrip("/"),
                                        disable_instance_discovery=True,
                                        connection_verify=endpoints["ca_bundle"])
    client = SecretClient(f"https://{VAULT}.{endpoints['keyvault_dns_suffix']}", credential,
                          connection_verify=endpoints["ca_bundle"])
    for index in range(max(SIZES)):
        client.set_secret(f"secret-{index:02d}", f"value-{index:02d}-{uuid.uuid4().hex}")
    return identity["clientId"], vm.vm_id


def request(endpoints: dict[str, Any], client_id: str, count: int) -> Any:
    objects = "array:\n" + "".join(
        f"  - |\n    objectName: secret-{i:02d}\n    objectType: secret\n" for i in range(count))
    return provider_pb2.MountRequest(attributes=json.dumps({
        "csi.storage.k8s.io/pod.name": "bench", "csi.storage.k8s.io/pod.namespace": "default",
        "secretProviderClass": "bench", "keyvaultName": VAULT,
        "tenantID": endpoints["tenant_id"], "useVMManagedIdentity": "true",
        "userAssignedIdentityID": client_id, "objects": objects}),
        secrets="null", permission="420")


def timed_mounts(stub: Any, mount_request: Any, samples: int, expected: int) -> list[float]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        reply = stub.Mount(mount_request, timeout=60)
        times.append(time.perf_counter() - start)
        if len(reply.files) != expected:
            raise SystemExit(f"expected {expected} files, got {len(reply.files)}")
    return times


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def run_delay(home: Path, delay_ms: int, samples: int, mounts: int, client_id: str,
              vm_id: str) -> dict[str, Any]:
    with local_cloud(home, delay_ms) as endpoints:
        proxy = TokenCountingProxy(endpoints["imds_base"].rsplit("/vms", 1)[0])
        try:
            with provider(home, endpoints, f"{proxy.base}/vms/{vm_id}") as stub:
                medians = {}
                print(f"\nKey Vault delay {delay_ms} ms (warm, {samples} samples each)")
                for size in SIZES:
                    mount_request = request(endpoints, client_id, size)
                    timed_mounts(stub, mount_request, 1, size)  # warm-up
                    times = timed_mounts(stub, mount_request, samples, size)
                    medians[size] = statistics.median(times)
                    print(f"  {size:3d} objects: median {medians[size] * 1000:7.1f} ms   "
                          f"p90 {p90(times) * 1000:7.1f} ms")
                ratio = medians[50] / medians[1]
                print(f"  50-object / 1-object mount: {ratio:.2f}x")
                result: dict[str, Any] = {"delay_ms": delay_ms, "medians": medians,
                                          "ratio": ratio}
                if mounts:
                    mount_request = request(endpoints, client_id, 1)
                    start = time.perf_counter()
                    timed_mounts(stub, mount_request, mounts, 1)
                    elapsed = time.perf_counter() - start
                    total = mounts + (samples + 1) * len(SIZES)
                    print(f"  token requests to IMDS over {total} mounts by one identity "
                          f"(incl. {mounts} in a row, {elapsed:.1f} s): {proxy.token_requests}")
                    result["token_requests"] = proxy.token_requests
                    result["mounts"] = total
            with provider(home, endpoints, f"{proxy.base}/vms/{vm_id}", concurrency=1) as stub:
                mount_request = request(endpoints, client_id, 50)
                timed_mounts(stub, mount_request, 1, 50)
                one_by_one = statistics.median(timed_mounts(stub, mount_request, 3, 50))
                print(f"   50 objects one by one (as upstream): median {one_by_one * 1000:7.1f} "
                      f"ms = {one_by_one / medians[1]:.1f}x the 1-object mount")
                result["one_by_one"] = one_by_one
            return result
        finally:
            proxy.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delays", default="0,20", help="Key Vault delays in ms, comma-separated")
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--mounts", type=int, default=1000,
                        help="mounts in a row for the token count (at the first delay)")
    args = parser.parse_args()
    os.environ.update(KVCSI_LOOPBACK_ONLY="1", KVCSI_RESOLVE_LOCALHOST="1")
    netrules.apply_from_environment()
    delays = [int(d) for d in args.delays.split(",") if d.strip()]
    with tempfile.TemporaryDirectory(prefix="kvcsi-bench-home-") as directory:
        home = Path(directory)
        with local_cloud(home, 0) as endpoints:
            client_id, vm_id = seed(home, endpoints)
        results = [run_delay(home, delay, args.samples, args.mounts if i == 0 else 0,
                             client_id, vm_id) for i, delay in enumerate(delays)]
    print("\nGoals")
    for result in results:
        if result["delay_ms"] >= 20:
            verdict = "met" if result["ratio"] <= 3 else "NOT met"
            print(f"  at {result['delay_ms']} ms: 50-object mount {result['ratio']:.2f}x the "
                  f"1-object mount (goal <= 3x): {verdict}")
    counted = [r for r in results if "token_requests" in r]
    for result in counted:
        verdict = "met" if result["token_requests"] <= 1 else "NOT met"
        print(f"  token requests for {result['mounts']} mounts by one identity: "
              f"{result['token_requests']} (goal <= 1 per token lifetime): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
