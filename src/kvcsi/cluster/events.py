"""Core/v1 Events: how one is shaped and when a new one is folded into an existing one.

Counterpart: client-go's ``tools/record`` (EventRecorder + EventCorrelator): an event with
the same source, involved object, type, reason and message as an existing one increments
``count`` and moves ``lastTimestamp`` instead of creating a new object. Event names are
``<involved name>.<hex nanoseconds>``, as client-go makes them.
"""

from __future__ import annotations

import time
from typing import Any

from kvcsi.cluster.objects import now_rfc3339

REFERENCE_FIELDS = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion")


def object_reference(involved: dict[str, Any]) -> dict[str, str]:
    """An ObjectReference from a full object or from a reference dict."""
    if "metadata" in involved:
        metadata = involved["metadata"]
        ref = {
            "kind": involved.get("kind", ""),
            "namespace": metadata.get("namespace", ""),
            "name": metadata.get("name", ""),
            "uid": metadata.get("uid", ""),
            "apiVersion": involved.get("apiVersion", ""),
            "resourceVersion": metadata.get("resourceVersion", ""),
        }
    else:
        ref = {key: str(involved.get(key) or "") for key in REFERENCE_FIELDS}
        if involved.get("fieldPath"):
            ref["fieldPath"] = str(involved["fieldPath"])
    return {key: value for key, value in ref.items() if value}


def event_namespace(ref: dict[str, str]) -> str:
    """Events of cluster-scoped objects live in ``default`` (client-go does the same)."""
    return ref.get("namespace") or "default"


def new_event(
    ref: dict[str, str],
    type_: str,
    reason: str,
    message: str,
    source_component: str,
    source_host: str | None,
) -> dict[str, Any]:
    stamp = now_rfc3339()
    source = {"component": source_component}
    if source_host:
        source["host"] = source_host
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{ref.get('name', 'unknown')}.{time.time_ns():x}",
            "namespace": event_namespace(ref),
        },
        "involvedObject": dict(ref),
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": type_,
        "eventTime": None,
        "reportingComponent": "",
        "reportingInstance": "",
    }


def same_object(event: dict[str, Any], ref: dict[str, str]) -> bool:
    """Whether ``event`` is about the object ``ref`` names (uid compared when both have one)."""
    involved = event.get("involvedObject") or {}
    for key in ("kind", "name"):
        if involved.get(key, "") != ref.get(key, ""):
            return False
    if involved.get("namespace", "") != ref.get("namespace", ""):
        return False
    if ref.get("uid") and involved.get("uid") and involved["uid"] != ref["uid"]:
        return False
    return True


def aggregates_with(event: dict[str, Any], candidate: dict[str, Any]) -> bool:
    """client-go's event key: source, involved object, type, reason and message."""
    return (
        event.get("source") == candidate.get("source")
        and event.get("type") == candidate.get("type")
        and event.get("reason") == candidate.get("reason")
        and event.get("message") == candidate.get("message")
        and (event.get("involvedObject") or {}).get("uid")
        == (candidate.get("involvedObject") or {}).get("uid")
        and same_object(event, candidate.get("involvedObject") or {})
    )


def sort_key(event: dict[str, Any]) -> tuple[str, int]:
    """kubectl describe orders events by last timestamp (then by when they were written)."""
    return (event.get("lastTimestamp") or "",
            int(event.get("metadata", {}).get("resourceVersion") or 0))
