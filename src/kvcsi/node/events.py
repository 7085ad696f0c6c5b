"""Events the local kubelet and scheduler record, with their upstream reasons and sources.

Counterparts: kubelet's ``events`` package constants (``FailedMount``, ``Pulled``,
``Created``, ``Started``, ``Killing``, ``BackOff``, ``Failed``) and the scheduler's
``Scheduled`` / ``FailedScheduling``. Source component ``kubelet`` with host = node name, as
``kubectl describe pod`` shows (``kubelet  aks-nodepool1-...``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

KUBELET = "kubelet"
SCHEDULER = "default-scheduler"

FAILED_MOUNT = "FailedMount"
PULLED = "Pulled"
CREATED = "Created"
STARTED = "Started"
KILLING = "Killing"
BACK_OFF = "BackOff"
FAILED = "Failed"
SCHEDULED = "Scheduled"
FAILED_SCHEDULING = "FailedScheduling"


def container_ref(pod: Mapping[str, Any], container: str) -> dict[str, Any]:
    """An ObjectReference to one container of a pod (``fieldPath: spec.containers{c}``)."""
    metadata = pod.get("metadata") or {}
    return {"kind": "Pod", "apiVersion": "v1", "namespace": metadata.get("namespace", ""),
            "name": metadata.get("name", ""), "uid": metadata.get("uid", ""),
            "fieldPath": f"spec.containers{{{container}}}"}


def record(store: Any, involved: Mapping[str, Any], type_: str, reason: str, message: str,
           component: str = KUBELET, host: str | None = None) -> None:
    """Record an event; a store error is logged, never raised (events are best effort)."""
    try:
        store.record_event(dict(involved), type_, reason, message, component, host)
    except Exception as error:  # noqa: BLE001 - events must not break the pod worker
        log.warning("could not record event %s %s: %s", reason, message, error)
