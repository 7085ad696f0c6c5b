"""The local cloud's one store: a SQLite database under ``$KVCSI_HOME/cloud/state.db``.

It holds JSON documents keyed by ``(kind, key)``. ``kind`` names a collection
(``arm`` for ARM resources keyed by their lower-cased resource id, ``principal`` for
directory objects keyed by object id, ``kv-secret`` for Key Vault secret versions, ...);
``key`` is unique inside it and ``parent`` lets a collection be listed by prefix or owner.
Each owner (``arm``, ``identity``, ``keyvault``) keeps its own kinds and document shapes;
this module knows nothing about them. Connections are per thread; writes are serialised
by SQLite (WAL mode), so several processes may share a state dir safely.

``generation(kind)`` counts this process's writes to a kind and ``data_version()`` changes
when another connection (thread or process) commits, so caches (Key Vault's RBAC decisions,
vault lookups) can tell when what they cached may have changed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    seq    INTEGER NOT NULL DEFAULT 0,
    body   TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS documents_parent ON documents (kind, parent, seq);
CREATE INDEX IF NOT EXISTS documents_parent_key ON documents (kind, parent, key);
"""


class CloudStore:
    """JSON documents in SQLite, safe to share between threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._generations: dict[str, int] = {}
        self._connection().executescript(_SCHEMA)

    def generation(self, kind: str) -> int:
        """How many writes to ``kind`` this process has made (grows with every put/delete)."""
        return self._generations.get(kind, 0)

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` on this thread's connection: it changes whenever
        another connection commits (this thread's own writes show in ``generation``)."""
        return int(self._connection().execute("PRAGMA data_version").fetchone()[0])

    def _changed(self, kind: str) -> None:
        self._generations[kind] = self._generations.get(kind, 0) + 1

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); nested use joins the outer one."""
        db = self._connection()
        if db.in_transaction:
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            for kind in self._generations:  # what caches read inside it is gone too
                self._changed(kind)
            raise
        db.execute("COMMIT")

    def put(self, kind: str, key: str, body: dict[str, Any], parent: str = "",
            seq: int = 0) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO documents (kind, key, parent, seq, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET parent = excluded.parent, "
                "seq = excluded.seq, body = excluded.body",
                (kind, key, parent, seq, json.dumps(body, separators=(",", ":"))),
            )
        self._changed(kind)

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._connection().execute(
            "SELECT body FROM documents WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def delete(self, kind: str, key: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM documents WHERE kind = ? AND key = ?", (kind, key))
        self._changed(kind)
        return cursor.rowcount > 0

    def put_many(self, kind: str, rows: list[tuple[str, dict[str, Any], str, int]]) -> None:
        """Insert or replace many ``(key, body, parent, seq)`` documents in one transaction."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO documents (kind, key, parent, seq, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET parent = excluded.parent, "
                "seq = excluded.seq, body = excluded.body",
                [(kind, key, parent, seq, json.dumps(body, separators=(",", ":")))
                 for key, body, parent, seq in rows],
            )
        self._changed(kind)

    def children_after(self, kind: str, parent: str, after_key: str,
                       limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` children of ``parent`` with a key greater than ``after_key``, in
        key order (one page of a listing; the ``(kind, parent, key)`` index makes every page
        cost the same)."""
        rows = self._connection().execute(
            "SELECT body FROM documents WHERE kind = ? AND key > ? AND parent = ? "
            "ORDER BY key LIMIT ?",
            (kind, after_key, parent, limit),
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def children(self, kind: str, parent: str) -> list[dict[str, Any]]:
        """Documents of ``kind`` whose parent is exactly ``parent``, in ``seq`` order."""
        rows = self._connection().execute(
            "SELECT body FROM documents WHERE kind = ? AND parent = ? ORDER BY seq, key",
            (kind, parent),
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def scan(self, kind: str, key_prefix: str = "") -> list[dict[str, Any]]:
        """Documents of ``kind`` whose key starts with ``key_prefix``, ordered by key."""
        rows = self._connection().execute(
            "SELECT body FROM documents WHERE kind = ? AND substr(key, 1, ?) = ? ORDER BY key",
            (kind, len(key_prefix), key_prefix),
        ).fetchall()
        return [json.loads(row[0]) for row in rows]
