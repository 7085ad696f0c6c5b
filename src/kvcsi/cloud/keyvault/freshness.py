"""When Key Vault's in-memory caches must be dropped: a stamp of what the store has seen.

A :class:`StoreWatch` stamps ``(data_version, generation of each watched kind)``: the stamp
changes when this process writes one of the kinds (``CloudStore.generation``) or when any
other connection — another thread or another process sharing the state dir — commits
(``CloudStore.data_version``). Caches keep their entries while the stamp is unchanged, so a
new role assignment, vault or secret version is seen by the very next request, and a
steady read load costs one ``PRAGMA data_version`` instead of queries and JSON.

The ``data_version`` read is shared by every watch of a store for ``RECHECK_SECONDS`` (1 ms),
so one request pays for it once: a commit made by *another* connection is seen within 1 ms
(writes of this process are seen at once through the generations).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable
from typing import Generic, TypeVar

from kvcsi.cloud.store import CloudStore

K = TypeVar("K")
V = TypeVar("V")
RECHECK_SECONDS = 0.001


class _DataVersionClock:
    """``data_version`` of one store, re-read at most every ``RECHECK_SECONDS``."""

    def __init__(self, store: CloudStore) -> None:
        self.store = store
        self._value = -1
        self._read_at = float("-inf")

    def data_version(self) -> int:
        now = time.monotonic()
        if now - self._read_at >= RECHECK_SECONDS:
            self._value = self.store.data_version()
            self._read_at = now
        return self._value


_clocks: weakref.WeakKeyDictionary[CloudStore, _DataVersionClock] = weakref.WeakKeyDictionary()


def _clock(store: CloudStore) -> _DataVersionClock:
    clock = _clocks.get(store)
    if clock is None:
        clock = _clocks.setdefault(store, _DataVersionClock(store))
    return clock


class StoreWatch:
    """Stamps the state of some kinds of one store."""

    def __init__(self, store: CloudStore, kinds: Iterable[str]) -> None:
        self.store = store
        self.kinds = tuple(kinds)
        self._clock = _clock(store)

    def stamp(self) -> tuple[int, ...]:
        generation = self.store.generation
        return (self._clock.data_version(), *[generation(kind) for kind in self.kinds])


class WatchedCache(Generic[K, V]):
    """A dictionary that empties itself when its watch's stamp changes (or it grows past
    ``limit``)."""

    def __init__(self, watch: StoreWatch, limit: int = 100_000) -> None:
        self.watch = watch
        self.limit = limit
        self._entries: dict[K, V] = {}
        self._stamp: tuple[int, ...] | None = None

    def entries(self) -> dict[K, V]:
        """The live entries (read and write them directly)."""
        stamp = self.watch.stamp()
        if stamp != self._stamp or len(self._entries) >= self.limit:
            self._entries.clear()
            self._stamp = stamp
        return self._entries
