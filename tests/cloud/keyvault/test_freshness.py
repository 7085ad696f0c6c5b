"""The store features Key Vault's caches rely on: generations, data_version, paging by key,
and the caches' invalidation (also after a rolled-back transaction)."""

from __future__ import annotations

import threading

import pytest

from kvcsi.cloud.keyvault import freshness
from kvcsi.cloud.keyvault.freshness import StoreWatch, WatchedCache
from kvcsi.cloud.store import CloudStore


@pytest.fixture
def store(tmp_path):
    return CloudStore(tmp_path / "state.db")


def test_generation_and_paging(store):
    assert store.generation("kv-secret") == 0
    store.put_many("kv-secret", [(f"v/{name}", {"n": name}, "v", 0) for name in "cab"] +
                   [("v/a/1", {"n": "version"}, "v/a", 1)])
    store.put("kv-secret", "w/z", {"n": "other vault"}, parent="w")
    assert store.generation("kv-secret") == 2
    assert [d["n"] for d in store.children_after("kv-secret", "v", "v/", 2)] == ["a", "b"]
    assert [d["n"] for d in store.children_after("kv-secret", "v", "v/b", 2)] == ["c"]
    store.delete("kv-secret", "v/c")
    assert store.generation("kv-secret") == 3
    assert store.generation("arm") == 0


def test_watched_cache_sees_own_writes_other_threads_and_rollbacks(store, monkeypatch):
    monkeypatch.setattr(freshness, "RECHECK_SECONDS", 0)
    cache: WatchedCache[str, int] = WatchedCache(StoreWatch(store, ["arm"]))
    cache.entries()["x"] = 1
    store.put("audit", "unrelated", {})
    assert cache.entries() == {"x": 1}
    store.put("arm", "a", {})
    assert cache.entries() == {}

    cache.entries()["x"] = 2
    writer = threading.Thread(target=lambda: CloudStore(store.path).put("audit", "b", {}))
    writer.start()
    writer.join()
    assert cache.entries() == {}  # another connection committed

    cache.entries()["x"] = 3
    with pytest.raises(RuntimeError), store.transaction():
        store.put("audit", "c", {})
        raise RuntimeError("roll back")
    assert cache.entries() == {}
