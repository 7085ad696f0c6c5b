"""Several processes share one store file: no lost updates, unique resourceVersions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kvcsi.cluster import LocalClusterStore

WORKER = """
import sys
from kvcsi.cluster import Conflict, LocalClusterStore

path, worker, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = LocalClusterStore(path)
for i in range(rounds):
    store.create({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": f"w{worker}-{i}"}})
    while True:
        counter = store.get("v1", "ConfigMap", "default", "counter")
        counter["data"]["n"] = str(int(counter["data"]["n"]) + 1)
        try:
            store.replace(counter)
            break
        except Conflict:
            continue
store.close()
"""

ROUNDS = 25


def test_two_processes_increment_one_counter(store_path: Path) -> None:
    store = LocalClusterStore(store_path)
    store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counter"},
                  "data": {"n": "0"}})
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(store_path), str(n), str(ROUNDS)])
        for n in (1, 2)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    counter = store.get("v1", "ConfigMap", "default", "counter")
    assert counter["data"]["n"] == str(2 * ROUNDS)
    maps = store.list("v1", "ConfigMap")
    assert len(maps) == 2 * ROUNDS + 1
    versions = [m["metadata"]["resourceVersion"] for m in maps]
    assert len(set(versions)) == len(versions)
    assert store.watch_version() >= max(int(v) for v in versions)
    store.close()


def test_threads_share_one_store_object(store: LocalClusterStore) -> None:
    import threading

    def work(worker: int) -> None:
        for i in range(20):
            store.create({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": f"t{worker}-{i}"}})
            store.list("v1", "ConfigMap")
            store.get("v1", "ConfigMap", "default", f"t{worker}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.list("v1", "ConfigMap")) == 80
