"""Events the driver records on pods, with the upstream reasons and source components.

Upstream counterpart: the rotation reconciler's events of ≤v1.5 (``MountRotationComplete``,
``MountRotationFailed``, ``SecretRotationComplete``, ``SecretRotationFailed``; component
``csi-secrets-store-rotation``) and the SecretProviderClassPodStatus controller's
``FailedToCreateSecret`` (component ``csi-secrets-store-controller``); reference notes §4.1,
§4.8. Not upstream: ``ProviderWarning`` (component ``csi-secrets-store``), one Warning per
distinct warning the provider sent with a Mount call (gRPC trailing metadata
``kvcsi-warning-bin``), on successful and failed mounts; the cluster store aggregates
repeats into one event with a count. Events are best effort: a store failure is logged,
never raised. Messages never carry secret values or tokens (they name objects, files and
error texts that are already redacted).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

ROTATION_COMPONENT = "csi-secrets-store-rotation"
CONTROLLER_COMPONENT = "csi-secrets-store-controller"
DRIVER_COMPONENT = "csi-secrets-store"

MOUNT_ROTATION_COMPLETE = "MountRotationComplete"
MOUNT_ROTATION_FAILED = "MountRotationFailed"
SECRET_ROTATION_COMPLETE = "SecretRotationComplete"
SECRET_ROTATION_FAILED = "SecretRotationFailed"
FAILED_TO_CREATE_SECRET = "FailedToCreateSecret"
PROVIDER_WARNING = "ProviderWarning"

NORMAL = "Normal"
WARNING = "Warning"

log = logging.getLogger(__name__)


def provider_warning_message(provider: str, namespace: str, spc: str, warning: str) -> str:
    """The text of a ``ProviderWarning`` event."""
    return f'provider "{provider}" warns about SecretProviderClass {namespace}/{spc}: {warning}'


def pod_reference(namespace: str, name: str, uid: str) -> dict[str, Any]:
    """The involved object of a pod event (no GET needed)."""
    return {"apiVersion": "v1", "kind": "Pod", "namespace": namespace, "name": name, "uid": uid}


class EventRecorder:
    """Records driver events through the cluster store's ``record_event``."""

    def __init__(self, store: Any, node_id: str) -> None:
        self.store = store
        self.node_id = node_id

    def record(
        self,
        involved: Mapping[str, Any],
        type_: str,
        reason: str,
        message: str,
        component: str = ROTATION_COMPONENT,
    ) -> None:
        record_event = getattr(self.store, "record_event", None)
        if record_event is None:  # a store without events (unit-test fakes)
            return
        try:
            record_event(dict(involved), type_, reason, message, component, self.node_id or None)
        except Exception as error:  # noqa: BLE001 - events must never fail a publish
            log.warning("could not record event %s on %s: %s", reason, involved.get("name"), error)
