"""Garbage collection in the local store, done at once inside the deleting transaction.

Counterpart: the Kubernetes garbage collector (background propagation). Deleting a
Namespace removes its contents, deleting a CRD removes its custom resources, and an object
whose ``ownerReferences`` name the deleted object goes once none of its owners exists any
more; while another owner lives, only the dangling reference is removed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from kvcsi.cluster.kinds import KindInfo
from kvcsi.cluster.objects import owner_uids


def _uid_exists(db: sqlite3.Connection, uid: str) -> bool:
    return db.execute("SELECT 1 FROM objects WHERE uid = ? LIMIT 1", (uid,)).fetchone() \
        is not None


def collect_garbage(db: sqlite3.Connection, info: KindInfo, deleted: dict,
                    next_revision: Callable[[], int]) -> None:
    """Remove or re-own what depended on ``deleted`` (already removed from ``objects``)."""
    if info.group == "" and info.kind == "Namespace":
        db.execute("DELETE FROM objects WHERE namespace = ?", (deleted["metadata"]["name"],))
    if info.is_crd:
        spec = deleted.get("spec") or {}
        db.execute("DELETE FROM objects WHERE grp = ? AND kind = ?",
                   (spec.get("group", ""), (spec.get("names") or {}).get("kind", "")))
    pending = [deleted["metadata"]["uid"]]
    while pending:
        uid = pending.pop()
        for row_id, body in db.execute(
            "SELECT rowid, body FROM objects WHERE body LIKE ?", (f'%"{uid}"%',)
        ).fetchall():
            obj = json.loads(body)
            if uid not in owner_uids(obj):
                continue
            live = [ref for ref in obj["metadata"].get("ownerReferences") or []
                    if ref.get("uid") != uid and _uid_exists(db, ref.get("uid", ""))]
            if not live:
                db.execute("DELETE FROM objects WHERE rowid = ?", (row_id,))
                pending.append(obj["metadata"]["uid"])
                continue
            obj["metadata"]["ownerReferences"] = live
            revision = next_revision()
            obj["metadata"]["resourceVersion"] = str(revision)
            db.execute("UPDATE objects SET body = ?, rv = ? WHERE rowid = ?",
                       (json.dumps(obj, sort_keys=True), revision, row_id))
