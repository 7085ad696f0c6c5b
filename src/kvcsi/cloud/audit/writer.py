"""Writes audit events off the request path: an in-process queue, written in batches.

A request only puts a small snapshot of itself in the queue (:meth:`AuditWriter.submit`, a
``deque.append``); the first snapshot of a batch schedules one write on the running event
loop, ``FLUSH_SECONDS`` later (at once when ``BATCH_SIZE`` are waiting). That write turns the
snapshots into event documents and appends them to the
:class:`~kvcsi.cloud.audit.log.AuditLog` in one transaction, between requests.

Why the event loop and not a thread of its own: Key Vault's caches
(:mod:`kvcsi.cloud.keyvault.freshness`) are dropped whenever *another* SQLite connection
commits, and a writer thread has its own connection, so every batch would empty them; the
loop thread's own writes only touch the audit kinds, which no cache watches.

Read-your-writes: :func:`flush_pending` writes everything queued for a store right away (from
any thread), and :meth:`AuditLog.query` calls it first, so ``kvcsi audit`` right after a
request sees it. :func:`close_writers` (the server's shutdown) writes what is left. A
snapshot that cannot be turned into an event, or a batch that cannot be written, is logged
and dropped: auditing never changes Key Vault's answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from kvcsi.cloud.audit.log import AuditLog
    from kvcsi.cloud.store import CloudStore

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.05
BATCH_SIZE = 500
T = TypeVar("T")
Entry = tuple[dict[str, Any], int]  # (event document, event time in µs)

_registry_lock = threading.Lock()
_writers: dict[str, list[AuditWriter[Any]]] = {}


def _store_key(store: CloudStore) -> str:
    return str(Path(store.path).resolve())


def flush_pending(store: CloudStore) -> None:
    """Write every event queued for ``store``'s database (from any writer of this process)."""
    with _registry_lock:
        writers = list(_writers.get(_store_key(store), ()))
    for writer in writers:
        writer.flush()


def close_writers(store: CloudStore) -> None:
    """Stop the writers of ``store``'s database, writing what they still hold."""
    with _registry_lock:
        writers = _writers.pop(_store_key(store), [])
    for writer in writers:
        writer.close()


class AuditWriter(Generic[T]):
    """Batches request snapshots of type ``T`` into ``audit_log``; ``build`` turns one
    snapshot into ``(document, time in µs)`` when the batch is written."""

    def __init__(self, audit_log: AuditLog, build: Callable[[T], Entry], *,
                 flush_seconds: float | None = None, batch_size: int | None = None) -> None:
        self.audit_log = audit_log
        self.build = build
        self.flush_seconds = FLUSH_SECONDS if flush_seconds is None else flush_seconds
        self.batch_size = BATCH_SIZE if batch_size is None else batch_size
        self._pending: deque[T] = deque()
        self._write_lock = threading.Lock()
        self._closed = False
        self._key = _store_key(audit_log.store)
        with _registry_lock:
            _writers.setdefault(self._key, []).append(self)

    def submit(self, snapshot: T) -> None:
        """Queue one request's snapshot (no I/O, no encoding); the first one of a batch
        schedules the write on the running event loop (without one, or once closed, the
        snapshot is written at once)."""
        pending = self._pending
        pending.append(snapshot)
        waiting = len(pending)
        if self._closed:
            self.flush()
        elif waiting == 1 or waiting == self.batch_size:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            if waiting == 1:
                loop.call_later(self.flush_seconds, self.flush)
            else:
                loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write everything queued so far (in queue order), in one transaction."""
        with self._write_lock:
            snapshots: list[T] = []
            pending = self._pending
            while pending:
                snapshots.append(pending.popleft())
            if not snapshots:
                return
            entries: list[Entry] = []
            for snapshot in snapshots:
                try:
                    entries.append(self.build(snapshot))
                except Exception:  # one bad snapshot must not cost the others
                    log.exception("could not build an audit event")
            try:
                self.audit_log.append_many(entries)
            except Exception:
                log.exception("could not write %d audit events", len(entries))

    def pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        """Write what is left; later snapshots are written at once."""
        self._closed = True
        self.flush()
        with _registry_lock:
            writers = _writers.get(self._key, [])
            if self in writers:
                writers.remove(self)
            if not writers:
                _writers.pop(self._key, None)
