"""The Key Vault audit log: one event per data-plane request, in the cloud store, bounded.

Upstream counterpart: Key Vault's ``AuditEvent`` diagnostic log category (who called which
operation on which object, with what result). Events are kind ``audit-event`` documents in
the :class:`~kvcsi.cloud.store.CloudStore`; the store is a ring of ``capacity`` slots (key =
slot number, ``seq`` = event time in µs, parent = vault name lower-cased), so the newest
event overwrites the oldest and the log never grows past ``capacity``. The event counter is
kind ``audit-cursor`` key ``cursor`` (``{"next"}``); each event carries its ``sequence``.
An event holds names and ids only — never a secret value, a token or a request body.

Requests hand their events to an :class:`~kvcsi.cloud.audit.writer.AuditWriter`, which
appends them in batches (:meth:`AuditLog.append_many`); :meth:`AuditLog.query` first writes
whatever this process still has queued for the store, so a query sees every earlier request.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from kvcsi.cloud.audit.writer import Entry, flush_pending
from kvcsi.cloud.store import CloudStore

EVENT_KIND = "audit-event"
CURSOR_KIND = "audit-cursor"
CURSOR_KEY = "cursor"
DEFAULT_CAPACITY = 10_000

ALLOWED = "allowed"
DENIED = "denied"
FAILED = "failed"  # the request never reached an authorization decision
RESULTS = (ALLOWED, DENIED, FAILED)


@dataclass(frozen=True)
class AuditEvent:
    """One Key Vault request as the audit log keeps it (JSON field names in camelCase)."""

    time: str
    vault: str
    operation: str
    httpStatus: int  # noqa: N815 - the document's field name
    result: str
    callerObjectId: str = ""  # noqa: N815
    callerName: str = ""  # noqa: N815
    appId: str = ""  # noqa: N815
    objectType: str = ""  # noqa: N815
    objectName: str = ""  # noqa: N815
    objectVersion: str = ""  # noqa: N815
    dataAction: str = ""  # noqa: N815
    grantedBy: str = ""  # noqa: N815 - role assignment id, or "accessPolicy"
    errorCode: str = ""  # noqa: N815 - innererror code, else error code
    reason: str = ""
    requestId: str = ""  # noqa: N815

    def document(self) -> dict[str, Any]:
        return asdict(self)


_second_text: tuple[int, str] = (-1, "")  # the last whole second formatted


def now_text(now: float | None = None) -> str:
    """``2026-01-02T03:04:05.678Z`` (UTC, milliseconds) of epoch seconds ``now``."""
    global _second_text
    fraction, whole = math.modf(time.time() if now is None else now)
    second, micros = int(whole), round(fraction * 1_000_000)  # as datetime rounds
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    cached = _second_text
    if cached[0] != second:
        cached = _second_text = (second, datetime.fromtimestamp(second, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{micros // 1000:03d}Z"


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class AuditQuery:
    """Filters of ``kvcsi audit``; every given one must match (case-insensitive)."""

    vault: str | None = None
    caller: str | None = None  # object id, app id or display name
    result: str | None = None
    operation: str | None = None
    since: float | None = None  # epoch seconds
    limit: int | None = None  # the newest N matching events

    def matches(self, event: dict[str, Any]) -> bool:
        if self.vault and event.get("vault", "").lower() != self.vault.lower():
            return False
        if self.caller and self.caller.lower() not in (
                str(event.get("callerObjectId", "")).lower(),
                str(event.get("appId", "")).lower(),
                str(event.get("callerName", "")).lower()):
            return False
        if self.result and event.get("result", "").lower() != self.result.lower():
            return False
        if self.operation and event.get("operation", "").lower() != self.operation.lower():
            return False
        return not (self.since is not None and parse_time(event["time"]) < self.since)


class AuditLog:
    """Append and query audit events in a :class:`CloudStore` (a ring of ``capacity``)."""

    def __init__(self, store: CloudStore, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.store = store
        self.capacity = capacity

    def append(self, event: AuditEvent) -> None:
        self.append_many([(event.document(), int(parse_time(event.time) * 1_000_000))])

    def append_many(self, entries: list[Entry]) -> None:
        """Append ``(event document, event time in µs)`` pairs, in order, in one transaction
        (each document gets its ``sequence``)."""
        if not entries:
            return
        with self.store.transaction():
            cursor = self.store.get(CURSOR_KIND, CURSOR_KEY) or {"next": 0}
            first = int(cursor["next"])
            rows = []
            for number, (document, micros) in enumerate(entries, start=first):
                document["sequence"] = number
                rows.append((f"{number % self.capacity:08d}", document,
                             str(document["vault"]).lower(), micros))
            self.store.put_many(EVENT_KIND, rows)
            self.store.put(CURSOR_KIND, CURSOR_KEY, {"next": first + len(entries)})

    def query(self, query: AuditQuery | None = None) -> list[dict[str, Any]]:
        """Matching events, oldest first (after writing this process's queued events)."""
        flush_pending(self.store)
        query = query or AuditQuery()
        if query.vault:
            events = self.store.children(EVENT_KIND, query.vault.lower())
        else:
            events = self.store.scan(EVENT_KIND)
        events.sort(key=lambda event: event.get("sequence", 0))
        found = [event for event in events if query.matches(event)]
        if query.limit is not None:
            found = found[-query.limit:] if query.limit > 0 else []
        return found
