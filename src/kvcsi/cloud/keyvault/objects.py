"""Versioned, soft-deletable Key Vault objects in the CloudStore (no HTTP, no crypto here).

Counterpart of what secrets, keys and certificates share in Key Vault: names (1–127 of
``0-9a-zA-Z-``, case-insensitive, the case of the first version kept), versions (32 lowercase
hex digits), a latest version, soft delete (always on), recover and purge. One store kind per
object type (``kv-secret``, ``kv-key``, ``kv-certificate``) holds two sorts of documents:

- a **version**: key ``{vault}/{name-lower}/{version}``, parent ``{vault}/{name-lower}``,
  ``seq`` = creation time in µs (also kept in the body as ``seq``), so versions list in
  creation order;
- a **head** per name: key ``{vault}/{name-lower}``, parent ``{vault}`` while live and
  ``{vault}/~deleted`` once deleted, body ``{"name", "latest", "current": <latest version>,
  "deletedDate"?, "scheduledPurgeDate"?}``. Reading the latest version and listing a page of
  names cost one indexed query each, whatever the number of objects; heads read recently
  are kept in memory while the store is unchanged (:mod:`.freshness`).

Every key starts with ``{vault}/``, so purging a vault (ARM) drops all of it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.keyvault.errors import (
    BadParameter,
    Conflict,
    DeletedObjectNotFound,
    ObjectIsDeletedButRecoverable,
    ObjectNotFound,
)
from kvcsi.cloud.keyvault.freshness import StoreWatch, WatchedCache
from kvcsi.cloud.store import CloudStore

NAME_PATTERN = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION_PATTERN = re.compile(r"^[0-9a-fA-F]{32}$")
DELETED_SUFFIX = "/~deleted"
RECOVERABLE_DAYS = 90
RECOVERY_LEVEL = "Recoverable+Purgeable"
HEAD_CACHE_LIMIT = 20_000
Document = dict[str, Any]


@dataclass(frozen=True)
class ObjectType:
    """What differs between secrets, keys and certificates in storage and errors."""

    kind: str
    label: str
    not_found: type[ObjectNotFound]
    deleted_not_found: type[DeletedObjectNotFound]


def new_version_id() -> str:
    return uuid.uuid4().hex


def now_seconds() -> int:
    return int(time.time())


class VersionedObjects:
    """Objects of one type for every vault of one store."""

    def __init__(self, store: CloudStore, object_type: ObjectType) -> None:
        self.store = store
        self.type = object_type
        self.kind = object_type.kind
        self._heads: WatchedCache[str, Document | None] = WatchedCache(
            StoreWatch(store, [object_type.kind]), HEAD_CACHE_LIMIT)

    def check_name(self, name: str) -> None:
        if not NAME_PATTERN.match(name):
            label = self.type.label.capitalize()
            raise BadParameter(f"{label} name '{name}' is invalid. A {self.type.label} name "
                               "must be 1-127 characters long and contain only 0-9, a-z, A-Z "
                               "and -.")

    @staticmethod
    def head_key(vault: str, name: str) -> str:
        return f"{vault.lower()}/{name.lower()}"

    def _head(self, vault: str, name: str) -> Document | None:
        """The head of ``name`` (cached while the store is unchanged; do not mutate it)."""
        key = self.head_key(vault, name)
        heads = self._heads.entries()
        if key not in heads:
            heads[key] = self.store.get(self.kind, key)
        return heads[key]

    def live_head(self, vault: str, name: str) -> Document | None:
        head = self._head(vault, name)
        return None if head is None or "deletedDate" in head else head

    def deleted_head(self, vault: str, name: str) -> Document:
        head = self._head(vault, name)
        if head is None or "deletedDate" not in head:
            raise self.type.deleted_not_found(name)
        return head

    # -- writing ------------------------------------------------------------------------

    def add_version(self, vault: str, name: str, fields: Document, *,
                    version: str | None = None, created: int | None = None) -> Document:
        """Store a new latest version made of ``fields``; returns the version document.

        Refuses (409) a name that is soft-deleted. ``version`` may be given (certificates
        create their backing secret and key under the certificate's version).
        """
        self.check_name(name)
        with self.store.transaction():
            head = self._head(vault, name)
            if head is not None and "deletedDate" in head:
                raise ObjectIsDeletedButRecoverable(self.type.label, head["name"])
            now = now_seconds() if created is None else created
            seq = time.time_ns() // 1000
            if head is not None and head["current"].get("seq", 0) >= seq:
                seq = head["current"]["seq"] + 1
            doc = dict(fields)
            doc.update({"vault": vault.lower(), "name": head["name"] if head else name,
                        "version": (version or new_version_id()).lower(),
                        "created": now, "updated": now, "seq": seq})
            self._write_version(doc)
            self._write_head(vault, doc["name"], doc)
        return doc

    def add_versions_in_bulk(self, vault: str, documents: list[Document]) -> None:
        """Store many first versions at once (benchmark and restore setup; no checks)."""
        versions, heads = [], []
        for doc in documents:
            head_key = self.head_key(vault, doc["name"])
            versions.append((f"{head_key}/{doc['version']}", doc, head_key, doc["seq"]))
            heads.append((head_key, {"name": doc["name"], "latest": doc["version"],
                                     "current": doc}, vault.lower(), 0))
        self.store.put_many(self.kind, versions)
        self.store.put_many(self.kind, heads)

    def _write_version(self, doc: Document) -> None:
        head_key = self.head_key(doc["vault"], doc["name"])
        self.store.put(self.kind, f"{head_key}/{doc['version']}", doc, parent=head_key,
                       seq=doc["seq"])

    def _write_head(self, vault: str, name: str, current: Document,
                    deleted: Document | None = None) -> None:
        head: Document = {"name": name, "latest": current["version"], "current": current}
        parent = vault.lower()
        if deleted:
            head.update(deleted)
            parent += DELETED_SUFFIX
        self.store.put(self.kind, self.head_key(vault, name), head, parent=parent)

    def update_version(self, vault: str, name: str, version: str | None,
                       change: Callable[[Document], Document]) -> Document:
        """Apply ``change`` to one version (latest when ``version`` is empty)."""
        with self.store.transaction():
            doc = self.get(vault, name, version)
            updated = change(dict(doc))
            updated["updated"] = now_seconds()
            self._write_version(updated)
            head = self.live_head(vault, name)
            if head is not None and head["latest"] == updated["version"]:
                self._write_head(vault, head["name"], updated)
        return updated

    # -- reading ------------------------------------------------------------------------

    def get(self, vault: str, name: str, version: str | None = None) -> Document:
        """A live object's version (latest when ``version`` is empty), else 404."""
        head = self.live_head(vault, name)
        if head is None:
            raise self.type.not_found(name, version or None)
        if not version:
            return head["current"]
        doc = self.store.get(self.kind, f"{self.head_key(vault, name)}/{version.lower()}")
        if doc is None:
            raise self.type.not_found(name, version)
        return doc

    def versions(self, vault: str, name: str) -> list[Document]:
        """Every version of an object, oldest first (empty when it does not exist)."""
        return self.store.children(self.kind, self.head_key(vault, name))

    def heads_page(self, vault: str, after: str, limit: int, *,
                   deleted: bool = False) -> list[Document]:
        """Up to ``limit`` heads, live or deleted, whose lower-cased name sorts after
        ``after`` (lower-cased), in name order."""
        parent = vault.lower() + (DELETED_SUFFIX if deleted else "")
        after_key = self.head_key(vault, after) if after else vault.lower() + "/"
        return self.store.children_after(self.kind, parent, after_key, limit)

    # -- soft delete ----------------------------------------------------------------------

    def delete(self, vault: str, name: str) -> Document:
        """Soft-delete a live object; returns its (now deleted) head."""
        with self.store.transaction():
            head = self.live_head(vault, name)
            if head is None:
                raise self.type.not_found(name)
            now = now_seconds()
            deleted = {"deletedDate": now,
                       "scheduledPurgeDate": now + RECOVERABLE_DAYS * 86400}
            self._write_head(vault, head["name"], head["current"], deleted)
        return dict(head, **deleted)

    def recover(self, vault: str, name: str) -> Document:
        """Bring a deleted object back; returns its latest version."""
        with self.store.transaction():
            head = self.deleted_head(vault, name)
            self._write_head(vault, head["name"], head["current"])
        return head["current"]

    def purge(self, vault: str, name: str) -> None:
        """Remove a deleted object and all its versions for good."""
        with self.store.transaction():
            head = self.deleted_head(vault, name)
            self.remove_all(vault, head["name"])

    def remove_all(self, vault: str, name: str) -> None:
        for doc in self.versions(vault, name):
            self.store.delete(self.kind, f"{self.head_key(vault, name)}/{doc['version']}")
        self.store.delete(self.kind, self.head_key(vault, name))

    def restore(self, vault: str, name: str, documents: list[Document]) -> Document:
        """Recreate an object from backed-up versions (oldest first); 409 when the name is
        in use (live or deleted). Returns the latest version."""
        self.check_name(name)
        with self.store.transaction():
            if self._head(vault, name) is not None:
                raise_restore_conflict(self.type.label, name)
            restored = []
            for doc in documents:
                doc = dict(doc, vault=vault.lower(), name=name)
                self._write_version(doc)
                restored.append(doc)
            self._write_head(vault, name, restored[-1])
        return restored[-1]


def raise_restore_conflict(label: str, name: str) -> None:
    raise Conflict(f"There was a conflict restoring the {label} '{name}': an object with this "
                   "name already exists in the vault, live or deleted.")
