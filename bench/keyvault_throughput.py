"""Throughput and latency of the local Key Vault's GET secret, against a floor on the same stack.

Run as a script (not a test)::

    /work/venv/bin/python bench/keyvault_throughput.py [--clients 4] [--seconds 4]
        [--rounds 2] [--sizes 10,1000,10000,100000] [--skip-scale]

It starts ``kvcsi-cloud`` in a temporary state dir as a separate process, with
``KVCSI_KEYVAULT_BENCH_FLOOR=1`` so the Key Vault app also serves ``GET /_bench/floor``: a
fixed JSON body, of the same size as the GET secret answer, sent by the same uvicorn/TLS/
host-routing stack with none of Key Vault's work (the floor). Then:

1. **Throughput**: ``--clients`` client processes, each with one TLS keep-alive connection,
   call GET secret (a real bearer token, RBAC at subscription scope) and the floor
   alternately for ``--seconds`` per phase, ``--rounds`` times. Prints requests/s and
   p50/p99 of each and the ratio GET/floor (goal ≥ 0.6).
2. **Scale**: GET latency (one client, sequential) with 10 … 100,000 secrets stored in the
   vault (loaded in bulk straight into the store), and the time per page of listing every
   secret with ``maxresults=25``. Prints the ratios to the smallest size (goals: GET within
   20 %, listing per page flat, i.e. the whole listing linear in the number of secrets).

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_VAULT = "benchvault"
RESOURCE_GROUP = "bench"
ADMINISTRATOR_ROLE = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
SECRET_NAME = "bench-secret"
SECRET_VALUE = "s" * 64
API_VERSION = "7.6"


# -- the cloud under test ------------------------------------------------------------------

# Runs kvcsi-cloud with the audit log's wrapper replaced by the bare Key Vault app, to show
# what the audit log costs (diagnostic variant only; the default run is the real cloud).
WITHOUT_AUDIT = ("import sys, kvcsi.cloud.app as app, kvcsi.cloud.main as main; "
                 "app.audited_keyvault = lambda inner, ctx: inner; "
                 "sys.exit(main.main(sys.argv[1:]))")


def start_cloud(home: Path, *, audit: bool = True
                ) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    env = dict(os.environ, KVCSI_KEYVAULT_BENCH_FLOOR="1", KVCSI_RESOLVE_LOCALHOST="1",
               KVCSI_LOOPBACK_ONLY="1")
    launcher = ["-m", "kvcsi.cloud"] if audit else ["-c", WITHOUT_AUDIT]
    process = subprocess.Popen(
        [sys.executable, *launcher, "--home", str(home), "--https-port", "0",
         "--imds-port", "0", "--log-level", "warning"], env=env)
    announcement = home / "cloud" / "endpoints.json"
    deadline = time.monotonic() + 60
    while not announcement.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the local cloud did not start")
        time.sleep(0.1)
    return process, json.loads(announcement.read_text())


def seed_vault(home: Path, endpoints: dict[str, Any]) -> None:
    """The bench vault, in the contract's shapes, before anything asks the cloud for it.

    The local account is Key Vault Administrator on the subscription (contract §3.4), so
    its tokens may read the vault's secrets through RBAC.
    """
    from kvcsi.cloud.server import open_store

    store = open_store(home)
    subscription = endpoints["subscription_id"]
    group_id = f"/subscriptions/{subscription}/resourceGroups/{RESOURCE_GROUP}"
    vault_id = f"{group_id}/providers/Microsoft.KeyVault/vaults/{BENCH_VAULT}"
    store.put("arm", group_id.lower(), {
        "id": group_id, "name": RESOURCE_GROUP, "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope", "properties": {"provisioningState": "Succeeded"}},
        parent=f"/subscriptions/{subscription}")
    store.put("arm", vault_id.lower(), {
        "id": vault_id, "name": BENCH_VAULT, "type": "Microsoft.KeyVault/vaults",
        "location": "westeurope", "tags": {},
        "properties": {"vaultUri": f"https://{BENCH_VAULT}.{endpoints['keyvault_dns_suffix']}/",
                       "tenantId": endpoints["tenant_id"], "enableRbacAuthorization": True,
                       "accessPolicies": [], "sku": {"family": "A", "name": "standard"},
                       "enableSoftDelete": True}}, parent=group_id.lower())
    store.put("vault-name", BENCH_VAULT, {"id": vault_id})


def load_secrets(home: Path, count: int, start: int) -> None:
    """Add secrets ``filler-{start}`` … ``filler-{count-1}`` in bulk, straight into the store."""
    from kvcsi.cloud.keyvault.cipher import SecretCipher
    from kvcsi.cloud.keyvault.secrets import SecretRepository
    from kvcsi.cloud.server import open_store

    repository = SecretRepository(open_store(home), SecretCipher(home))
    batch = 20_000
    for first in range(start, count, batch):
        repository.bulk_load(BENCH_VAULT, {f"filler-{i:06d}": f"value-{i}"
                                           for i in range(first, min(count, first + batch))})


def get_token(endpoints: dict[str, Any], home: Path) -> str:
    account = json.loads((home / "cloud" / "cli-credential.json").read_text())
    connection = https_connection(endpoints)
    form = (f"grant_type=client_credentials&client_id={account['clientId']}"
            f"&client_secret={account['clientSecret']}"
            f"&scope={endpoints['keyvault_resource']}/.default")
    connection.request("POST", f"/{account['tenantId']}/oauth2/v2.0/token", body=form,
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Host": f"localhost:{endpoints['https_port']}"})
    response = connection.getresponse()
    body = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"token request failed: {body}")
    return str(body["access_token"])


def https_connection(endpoints: dict[str, Any]) -> http.client.HTTPSConnection:
    """A keep-alive TLS connection to the cloud (certificate checked against 127.0.0.1, which
    the server certificate names; the ``Host`` header picks the service)."""
    context = ssl.create_default_context(cafile=endpoints["ca_bundle"])
    return http.client.HTTPSConnection("127.0.0.1", endpoints["https_port"], context=context)


def vault_host(endpoints: dict[str, Any]) -> str:
    return f"{BENCH_VAULT}.{endpoints['keyvault_dns_suffix']}"


# -- clients ---------------------------------------------------------------------------------

def _client(endpoints: dict[str, Any], path: str, token: str, seconds: float,
            start_at: float, results: Any) -> None:
    connection = https_connection(endpoints)
    headers = {"Authorization": f"Bearer {token}", "Host": vault_host(endpoints)}
    latencies = []
    while time.time() < start_at:
        time.sleep(0.001)
    stop = time.perf_counter() + seconds
    while True:
        began = time.perf_counter()
        if began >= stop:
            break
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path} answered {response.status}")
        latencies.append(time.perf_counter() - began)
    connection.close()
    results.put(latencies)


def run_phase(endpoints: dict[str, Any], path: str, token: str, clients: int,
              seconds: float) -> list[float]:
    results: Any = multiprocessing.Queue()
    start_at = time.time() + 0.5
    workers = [multiprocessing.Process(target=_client,
                                       args=(endpoints, path, token, seconds, start_at, results))
               for _ in range(clients)]
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    for _ in workers:
        latencies.extend(results.get())
    for worker in workers:
        worker.join()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    return {"rps": len(latencies) / seconds, "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000}


def sequential_latency(endpoints: dict[str, Any], path: str, token: str,
                       requests: int, repeats: int = 3) -> float:
    """Median latency in ms of ``requests`` sequential GETs on a warm connection (the best
    of ``repeats`` runs, which filters out load from other processes)."""
    connection = https_connection(endpoints)
    headers = {"Authorization": f"Bearer {token}", "Host": vault_host(endpoints)}
    medians = []
    for _ in range(repeats):
        latencies = []
        for _ in range(requests):
            began = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - began)
        medians.append(statistics.median(latencies[requests // 10:]) * 1000)
    connection.close()
    return min(medians)


def list_everything(endpoints: dict[str, Any], token: str) -> tuple[int, float]:
    """(pages, ms per page) of listing every secret with maxresults=25."""
    connection = https_connection(endpoints)
    headers = {"Authorization": f"Bearer {token}", "Host": vault_host(endpoints)}
    connection.request("GET", f"/secrets?api-version={API_VERSION}&maxresults=1",
                       headers=headers)
    connection.getresponse().read()  # warm connection and caches
    path: str | None = f"/secrets?api-version={API_VERSION}&maxresults=25"
    pages, began = 0, time.perf_counter()
    prefix = f"https://{vault_host(endpoints)}"
    while path:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = json.loads(response.read())
        pages += 1
        link = body.get("nextLink")
        path = link[len(prefix):] if link else None
    connection.close()
    return pages, (time.perf_counter() - began) * 1000 / pages


# -- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sizes", default="10,1000,10000,100000")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-without-audit", action="store_true",
                        help="do not measure the diagnostic variant without the audit log")
    args = parser.parse_args(argv)
    print(f"{args.clients} client processes, keep-alive TLS, {args.seconds:g} s per phase, "
          f"{args.rounds} rounds, {os.cpu_count()} CPUs")
    variants = [True] if args.skip_without_audit else [True, False]
    for audit in variants:
        label = "kvcsi-cloud as shipped (audit log on)" if audit else \
            "diagnostic: the same cloud without the audit log's wrapper"
        print(label + ":")
        run_variant(args, audit=audit, with_scale=audit and not args.skip_scale)
    return 0


def run_variant(args: argparse.Namespace, *, audit: bool, with_scale: bool) -> None:
    home = Path(tempfile.mkdtemp(prefix="kvcsi-bench-"))
    process, endpoints = start_cloud(home, audit=audit)
    try:
        seed_vault(home, endpoints)
        token = get_token(endpoints, home)
        connection = https_connection(endpoints)
        put_headers = {"Authorization": f"Bearer {token}", "Host": vault_host(endpoints),
                       "Content-Type": "application/json"}
        connection.request("PUT", f"/secrets/{SECRET_NAME}?api-version={API_VERSION}",
                           body=json.dumps({"value": SECRET_VALUE}), headers=put_headers)
        answer = connection.getresponse()
        if answer.status != 200:
            raise SystemExit(f"set secret failed: {answer.status} {answer.read()!r}")
        answer.read()
        secret_path = f"/secrets/{SECRET_NAME}/?api-version={API_VERSION}"
        connection.request("GET", secret_path, headers=put_headers)
        body_size = len(connection.getresponse().read())
        connection.close()
        floor_path = f"/_bench/floor?size={body_size}"

        totals: dict[str, list[float]] = {"floor": [], "get": []}
        for _ in range(args.rounds):
            for label, path in (("floor", floor_path), ("get", secret_path)):
                totals[label].extend(run_phase(endpoints, path, token, args.clients,
                                               args.seconds))
        seconds = args.seconds * args.rounds
        floor, get = summary(totals["floor"], seconds), summary(totals["get"], seconds)
        for label, numbers in ((f"floor ({body_size} B JSON)", floor),
                               (f"GET secret ({body_size} B)", get)):
            print(f"  {label:24s} {numbers['rps']:7.0f} req/s   p50 {numbers['p50_ms']:6.2f} ms"
                  f"   p99 {numbers['p99_ms']:6.2f} ms")
        print(f"  ratio GET/floor: {get['rps'] / floor['rps']:.2f} (goal >= 0.60)")
        if with_scale:
            scale(endpoints, home, token, secret_path, [int(s) for s in args.sizes.split(",")])
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def scale(endpoints: dict[str, Any], home: Path, token: str, secret_path: str,
          sizes: list[int]) -> None:
    print("GET latency and listing by number of stored secrets (one sequential client):")
    stored = 1
    baseline_get = baseline_page = None
    sequential_latency(endpoints, secret_path, token, 500, repeats=1)  # warm up
    for size in sizes:
        load_secrets(home, size - 1, stored - 1)
        stored = size
        get_ms = sequential_latency(endpoints, secret_path, token, 500)
        pages, page_ms = list_everything(endpoints, token)
        baseline_get = baseline_get or get_ms
        if pages > 1:  # compare full pages of 25 only
            baseline_page = baseline_page or page_ms
        page_ratio = f"x{page_ms / baseline_page:.2f}" if baseline_page else "partial page"
        print(f"  {size:7d} secrets: GET p50 {get_ms:5.2f} ms (x{get_ms / baseline_get:.2f})   "
              f"list {pages:5d} pages, {page_ms:5.2f} ms/page ({page_ratio}), "
              f"whole listing {pages * page_ms / 1000:6.2f} s")
    print("  goals: GET within x1.20; ms/page flat, i.e. listing everything linear in the "
          "number of secrets")


if __name__ == "__main__":
    sys.exit(main())
