"""The local cluster: Kubernetes objects in one SQLite file shared by several processes.

Counterpart: the API server with etcd behind it, reduced to what kvcsi needs. One row per
object keyed by (group, kind, namespace, name), stored in the kind's storage version; one
global revision counter (``resourceVersion`` of every write, and :meth:`watch_version`).
WAL mode and ``BEGIN IMMEDIATE`` write transactions make concurrent writers from the CLI,
the node runtime and driver processes safe. Deleting an object also deletes its dependents
(``ownerReferences``), a namespace's objects, or a CRD's custom resources.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kvcsi.cluster import events as ev
from kvcsi.cluster import kinds
from kvcsi.cluster.errors import AlreadyExists, BadRequest, Conflict, Forbidden, Invalid, NotFound
from kvcsi.cluster.garbage_collection import collect_garbage
from kvcsi.cluster.kinds import CRD_GROUP, CRD_KIND, KindInfo
from kvcsi.cluster.objects import (
    SERVER_METADATA,
    applied_body,
    deletes_gracefully,
    desired_state,
    initial_status,
    merge_patch,
    name_causes,
    now_rfc3339,
    pod_update_causes,
    selector_matches,
    with_defaults,
)
from kvcsi.cluster.schema import schema_causes, unknown_fields
from kvcsi.cluster.store import ApplyAction, LabelSelector

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    grp TEXT NOT NULL, kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    uid TEXT NOT NULL, rv INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (grp, kind, namespace, name));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('revision', 0);
"""


class LocalClusterStore:
    """A :class:`~kvcsi.cluster.store.ClusterStore` on a SQLite file (``store.db``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
            check_same_thread=False,
        )
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        with self._write() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            for namespace in INITIAL_NAMESPACES:
                self._ensure_namespace(namespace)

    # -- discovery ------------------------------------------------------------------------

    def resolve_kind(self, api_version: str, kind: str) -> KindInfo:
        return kinds.resolve(api_version, kind, self._crds())

    def api_resources(self) -> list[KindInfo]:
        return kinds.served_kinds(self._crds())

    def find_resource(self, name: str) -> list[KindInfo]:
        """Kinds a kubectl resource word (``po``, ``spc``, ``daemonsets.apps``) may mean."""
        return kinds.find_resource(name, self._crds())

    # -- reads ----------------------------------------------------------------------------

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict:
        info = self.resolve_kind(api_version, kind)
        with self._lock:
            row = self._row(info, self._namespace_of(info, namespace), name)
        if row is None:
            raise NotFound(info.resource_ref, name)
        return _as_version(row, info)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector | None = None,
    ) -> list[dict]:
        info = self.resolve_kind(api_version, kind)
        sql = "SELECT body FROM objects WHERE grp = ? AND kind = ?"
        args: list[Any] = [info.group, info.kind]
        if namespace is not None and info.namespaced:
            sql += " AND namespace = ?"
            args.append(namespace)
        sql += " ORDER BY namespace, name"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        found = (json.loads(body) for (body,) in rows)
        return [
            _as_version(obj, info)
            for obj in found
            if selector_matches(obj["metadata"].get("labels") or {}, label_selector)
        ]

    def watch_version(self) -> int:
        with self._lock:
            (value,) = self._db.execute(
                "SELECT value FROM counters WHERE name = 'revision'"
            ).fetchone()
        return int(value)

    # -- writes ---------------------------------------------------------------------------

    def create(self, obj: dict) -> dict:
        info, body = self._incoming(obj)
        with self._write():
            return _as_version(self._insert(info, body), info)

    def apply(self, obj: dict) -> tuple[dict, ApplyAction]:
        info, body = self._incoming(obj)
        meta = body["metadata"]
        with self._write():
            existing = self._row(info, meta.get("namespace", ""), meta["name"])
            if existing is None:
                return _as_version(self._insert(info, body), info), "created"
            merged = applied_body(info, existing, body)
            if merged == existing:
                return _as_version(existing, info), "unchanged"
            stored = self._update(info, existing, merged)
            return _as_version(stored, info), "configured"

    def replace(self, obj: dict) -> dict:
        info, body = self._incoming(obj)
        meta = body["metadata"]
        with self._write():
            existing = self._row(info, meta.get("namespace", ""), meta["name"])
            if existing is None:
                raise NotFound(info.resource_ref, meta["name"])
            wanted_rv = obj.get("metadata", {}).get("resourceVersion")
            if wanted_rv and str(wanted_rv) != existing["metadata"]["resourceVersion"]:
                raise Conflict(info.resource_ref, meta["name"])
            for key in ("uid", "creationTimestamp", "generation"):
                meta[key] = existing["metadata"][key]
            if info.status_subresource:
                body.pop("status", None)
                if "status" in existing:
                    body["status"] = existing["status"]
            return _as_version(self._update(info, existing, body), info)

    def update_status(
        self, api_version: str, kind: str, namespace: str | None, name: str, status: dict
    ) -> dict:
        return self._change_status(api_version, kind, namespace, name, lambda _: status)

    def patch_status(
        self, api_version: str, kind: str, namespace: str | None, name: str, patch: dict
    ) -> dict:
        """JSON merge patch (RFC 7386) of ``status``: ``None`` values remove keys."""
        return self._change_status(
            api_version, kind, namespace, name, lambda old: merge_patch(old or {}, patch)
        )

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        *,
        grace_period_seconds: int | None = None,
    ) -> dict:
        """Delete an object. A Pod bound to a node (``spec.nodeName``) is deleted gracefully,
        as the API server does: it gets ``metadata.deletionTimestamp`` and
        ``deletionGracePeriodSeconds`` and stays until its kubelet (the node runtime) deletes
        it with ``grace_period_seconds=0`` after tearing it down."""
        info = self.resolve_kind(api_version, kind)
        ns = self._namespace_of(info, namespace)
        with self._write() as db:
            row = self._row(info, ns, name)
            if row is None:
                raise NotFound(info.resource_ref, name)
            if deletes_gracefully(info, row, grace_period_seconds):
                meta = row["metadata"]
                if meta.get("deletionTimestamp"):
                    return _as_version(row, info)
                body = copy.deepcopy(row)
                grace = grace_period_seconds
                if grace is None:
                    grace = int(row["spec"].get("terminationGracePeriodSeconds", 30))
                body["metadata"]["deletionTimestamp"] = now_rfc3339()
                body["metadata"]["deletionGracePeriodSeconds"] = grace
                return _as_version(self._update(info, row, body), info)
            revision = self._bump()
            db.execute(
                "DELETE FROM objects WHERE grp = ? AND kind = ? AND namespace = ? AND name = ?",
                (info.group, info.kind, ns, name),
            )
            collect_garbage(self._db, info, row, self._bump)
            row["metadata"]["resourceVersion"] = str(revision)
            return _as_version(row, info)

    # -- events ---------------------------------------------------------------------------

    def record_event(
        self,
        involved: dict,
        type_: str,
        reason: str,
        message: str,
        source_component: str,
        source_host: str | None = None,
    ) -> dict:
        ref = ev.object_reference(involved)
        candidate = ev.new_event(ref, type_, reason, message, source_component, source_host)
        namespace = candidate["metadata"]["namespace"]
        info = kinds.EVENT_KIND
        with self._write():
            for existing in self._rows(info, namespace):
                if ev.aggregates_with(existing, candidate):
                    existing["count"] = int(existing.get("count") or 1) + 1
                    existing["lastTimestamp"] = candidate["lastTimestamp"]
                    existing["involvedObject"] = candidate["involvedObject"]
                    return self._update(info, existing, existing)
            while self._row(info, namespace, candidate["metadata"]["name"]) is not None:
                candidate["metadata"]["name"] += "0"
            return self._insert(info, candidate)

    def events_for(self, involved: dict) -> list[dict]:
        ref = ev.object_reference(involved)
        found = [e for e in self.list_events(ev.event_namespace(ref)) if ev.same_object(e, ref)]
        return sorted(found, key=ev.sort_key)

    def list_events(self, namespace: str | None = None) -> list[dict]:
        return sorted(self.list("v1", "Event", namespace), key=ev.sort_key)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> LocalClusterStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _crds(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM objects WHERE grp = ? AND kind = ?", (CRD_GROUP, CRD_KIND)
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def _namespace_of(self, info: KindInfo, namespace: str | None) -> str:
        if not info.namespaced:
            return ""
        return namespace or "default"

    def _row(self, info: KindInfo, namespace: str, name: str) -> dict | None:
        row = self._db.execute(
            "SELECT body FROM objects WHERE grp = ? AND kind = ? AND namespace = ? AND name = ?",
            (info.group, info.kind, namespace, name),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def _rows(self, info: KindInfo, namespace: str | None = None) -> list[dict]:
        sql = "SELECT body FROM objects WHERE grp = ? AND kind = ?"
        args: list[Any] = [info.group, info.kind]
        if namespace is not None:
            sql += " AND namespace = ?"
            args.append(namespace)
        return [json.loads(body) for (body,) in self._db.execute(sql, args).fetchall()]

    def _bump(self) -> int:
        self._db.execute("UPDATE counters SET value = value + 1 WHERE name = 'revision'")
        (value,) = self._db.execute(
            "SELECT value FROM counters WHERE name = 'revision'"
        ).fetchone()
        return int(value)

    def _incoming(self, obj: dict) -> tuple[KindInfo, dict]:
        """Resolve the kind, copy the body into storage shape, default and validate it."""
        if not isinstance(obj, dict) or not obj.get("kind"):
            raise BadRequest("Object 'Kind' is missing in the object")
        if not obj.get("apiVersion"):
            raise BadRequest("Object 'apiVersion' is missing in the object")
        info = self.resolve_kind(obj["apiVersion"], obj["kind"])
        body = copy.deepcopy(obj)
        body["apiVersion"] = info.storage_api_version
        meta = body.setdefault("metadata", {})
        name = meta.get("name") or ""
        if not name:
            raise BadRequest("resource name may not be empty")
        if info.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        causes = name_causes(info, name) + self._schema_causes(info, body)
        if causes:
            raise Invalid(info.kind, name, causes)
        return info, with_defaults(info, body)

    def _schema_causes(self, info: KindInfo, body: dict) -> list[str]:
        if info.group in ("", *{k.group for k in kinds.BUILTIN_KINDS}):
            return []
        for crd in self._crds():
            spec = crd.get("spec") or {}
            if spec.get("group") == info.group and spec.get("names", {}).get("kind") == info.kind:
                for version in spec.get("versions") or []:
                    if version.get("name") == info.version:
                        schema = (version.get("schema") or {}).get("openAPIV3Schema")
                        if not schema:
                            return []
                        unknown = unknown_fields(schema, body)
                        if unknown:
                            raise BadRequest(
                                f'{info.kind} in version "{info.version}" cannot be handled as '
                                f"a {info.kind}: strict decoding error: "
                                + ", ".join(f'unknown field "{field}"' for field in unknown)
                            )
                        return schema_causes(schema, body)
        return []

    def _insert(self, info: KindInfo, body: dict) -> dict:
        meta = body["metadata"]
        namespace = meta.get("namespace", "")
        if self._row(info, namespace, meta["name"]) is not None:
            raise AlreadyExists(info.resource_ref, meta["name"])
        if info.namespaced and self._row(kinds.NAMESPACE_KIND, "", namespace) is None:
            raise NotFound("namespaces", namespace)
        if info.group == "" and info.kind == "Pod":
            self._admit_pod(body)
        for key in SERVER_METADATA:
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = 1
        if info.status_subresource:
            body.pop("status", None)
            body.update(initial_status(info, body))
        meta["resourceVersion"] = str(self._bump())
        self._db.execute(
            "INSERT INTO objects (grp, kind, namespace, name, uid, rv, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (info.group, info.kind, namespace, meta["name"], meta["uid"],
             int(meta["resourceVersion"]), json.dumps(body, sort_keys=True)),
        )
        if info.group == "" and info.kind == "Namespace":
            self._ensure_default_service_account(meta["name"])
        return body

    def _update(self, info: KindInfo, existing: dict, body: dict) -> dict:
        if info.group == "" and info.kind == "Pod":
            causes = pod_update_causes(existing, body)
            if causes:
                raise Invalid(info.kind, body["metadata"]["name"], causes)
        meta = body["metadata"]
        if desired_state(body) != desired_state(existing):
            meta["generation"] = int(existing["metadata"].get("generation") or 1) + 1
        meta["resourceVersion"] = str(self._bump())
        self._db.execute(
            "UPDATE objects SET rv = ?, body = ? "
            "WHERE grp = ? AND kind = ? AND namespace = ? AND name = ?",
            (int(meta["resourceVersion"]), json.dumps(body, sort_keys=True), info.group,
             info.kind, meta.get("namespace", ""), meta["name"]),
        )
        return body

    def _change_status(self, api_version: str, kind: str, namespace: str | None, name: str,
                       change: Any) -> dict:
        info = self.resolve_kind(api_version, kind)
        ns = self._namespace_of(info, namespace)
        with self._write():
            existing = self._row(info, ns, name)
            if existing is None:
                raise NotFound(info.resource_ref, name)
            body = copy.deepcopy(existing)
            body["status"] = copy.deepcopy(change(existing.get("status")))
            return _as_version(self._update(info, existing, body), info)

    def _admit_pod(self, pod: dict) -> None:
        """ServiceAccount admission: the pod's service account must exist."""
        meta = pod["metadata"]
        account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
        sa_kind = kinds.SERVICE_ACCOUNT_KIND
        if self._row(sa_kind, meta["namespace"], account) is None:
            raise Forbidden(
                "pods", meta["name"],
                f"error looking up service account {meta['namespace']}/{account}: "
                f'serviceaccount "{account}" not found',
            )

    def _ensure_namespace(self, name: str) -> None:
        if self._row(kinds.NAMESPACE_KIND, "", name) is None:
            self._insert(kinds.NAMESPACE_KIND, {
                "apiVersion": "v1", "kind": "Namespace", "metadata": {
                    "name": name, "labels": {"kubernetes.io/metadata.name": name}}})
        self._ensure_default_service_account(name)

    def _ensure_default_service_account(self, namespace: str) -> None:
        sa_kind = kinds.SERVICE_ACCOUNT_KIND
        if self._row(sa_kind, namespace, "default") is None:
            self._insert(sa_kind, {"apiVersion": "v1", "kind": "ServiceAccount",
                                   "metadata": {"name": "default", "namespace": namespace}})

def _as_version(obj: dict, info: KindInfo) -> dict:
    """The stored object as the caller asked for it (versions of one kind share a schema)."""
    result = copy.deepcopy(obj)
    result["apiVersion"] = info.api_version
    return result
