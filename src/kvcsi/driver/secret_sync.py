"""Sync as Kubernetes Secret: create or update the Secrets a SecretProviderClass lists.

Upstream counterpart: the SecretProviderClassPodStatus controller and its owner-reference
patcher (``controllers/secretproviderclasspodstatus_controller.go``; reference notes §4.2).
Here the driver syncs right after a successful publish or rotation of a volume, from that
volume's files, and fixes what users complain about (§6 items 3-4, §7.3):

* a Secret is written only when its type, data, labels, annotations or owners would change
  (no write per reconcile or republish);
* a same-named Secret without ``secrets-store.csi.k8s.io/managed=true`` is never touched: a
  ``FailedToCreateSecret`` event says why;
* labels and annotations already on a managed Secret are kept (ours win on conflict), and
  owner references are added, never replaced: the pod's owners (its ReplicaSet, ...) without
  ``controller``/``blockOwnerDeletion``, or the pod itself when it has none;
* a missing file's event lists the files that are present (case BB-12).

Removal when no mounting pod remains is :mod:`kvcsi.driver.secret_sync_reconciler`'s job.
"""

from __future__ import annotations

import base64
import copy
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kvcsi.cluster.errors import AlreadyExists, ClusterError, Conflict, NotFound
from kvcsi.driver import events as ev
from kvcsi.driver.secret_sync_data import (
    SecretDataError,
    SecretObjectSpec,
    build_secret_data,
    mounted_files,
    secret_objects_of,
)
from kvcsi.driver.secret_sync_tls import TlsSplitError

MANAGED_LABEL = "secrets-store.csi.k8s.io/managed"
UPDATE_ATTEMPTS = 5

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What one sync did, secret name by outcome."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[str]:
        return self.created + self.updated


def owner_references(pod: Mapping[str, Any]) -> list[dict[str, str]]:
    """The pod's own owners (flags dropped), or the pod itself when it has none."""
    metadata = pod.get("metadata") or {}
    owners = [
        {key: str(ref[key]) for key in ("apiVersion", "kind", "name", "uid") if key in ref}
        for ref in metadata.get("ownerReferences") or []
    ]
    if owners:
        return owners
    return [{"apiVersion": "v1", "kind": "Pod", "name": metadata.get("name", ""),
             "uid": metadata.get("uid", "")}]


def desired_secret(
    spec: SecretObjectSpec, namespace: str, data: Mapping[str, bytes], owners: list[dict]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": spec.secret_name,
        "namespace": namespace,
        "labels": {**spec.labels, MANAGED_LABEL: "true"},
        "ownerReferences": owners,
    }
    if spec.annotations:
        metadata["annotations"] = dict(spec.annotations)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": spec.secret_type,
        "data": {key: base64.b64encode(value).decode() for key, value in sorted(data.items())},
    }


def merged_secret(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """``existing`` with our type, data, labels, annotations and owners applied."""
    merged = copy.deepcopy(dict(existing))
    metadata = merged.setdefault("metadata", {})
    wanted = desired["metadata"]
    metadata["labels"] = {**(metadata.get("labels") or {}), **wanted["labels"]}
    if wanted.get("annotations"):
        metadata["annotations"] = {**(metadata.get("annotations") or {}),
                                   **wanted["annotations"]}
    owners = list(metadata.get("ownerReferences") or [])
    known = {ref.get("uid") for ref in owners}
    owners.extend(ref for ref in wanted["ownerReferences"] if ref.get("uid") not in known)
    metadata["ownerReferences"] = owners
    merged["type"] = desired["type"]
    merged["data"] = dict(desired["data"])
    merged.pop("stringData", None)
    return merged


def is_managed(secret: Mapping[str, Any]) -> bool:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_LABEL) == "true"


class SecretSyncer:
    """Creates or updates the ``secretObjects`` Secrets of one SecretProviderClass."""

    def __init__(self, store: Any, events: ev.EventRecorder, metrics: Any = None) -> None:
        self.store = store
        self.events = events
        self.metrics = metrics

    def sync(
        self,
        pod: Mapping[str, Any],
        spc: Mapping[str, Any],
        target: str,
        *,
        provider: str = "",
        rotation: bool = False,
    ) -> SyncReport:
        report = SyncReport()
        specs = secret_objects_of(spc)
        if not specs:
            return report
        started = time.monotonic()
        spc_meta = spc.get("metadata") or {}
        spc_ref = f"{spc_meta.get('namespace', '')}/{spc_meta.get('name', '')}"
        namespace = (pod.get("metadata") or {}).get("namespace") or spc_meta.get("namespace", "")
        try:
            files = mounted_files(target)
        except OSError as error:
            self._warn(pod, f"failed to get mounted files, err: {error.strerror or error}")
            report.failed.extend(spec.secret_name for spec in specs)
            return report
        owners = owner_references(pod)
        for spec in specs:
            try:
                spec.validate()
            except SecretDataError as error:
                self._warn(pod, f"failed to validate secret object in spc {spc_ref}, err: {error}")
                report.failed.append(spec.secret_name)
                continue
            try:
                data = build_secret_data(spec, files)
            except (SecretDataError, TlsSplitError, OSError) as error:
                self._warn(pod, f"failed to get data in spc {spc_ref} for secret "
                                f"{spec.secret_name}, err: {error}")
                report.failed.append(spec.secret_name)
                continue
            desired = desired_secret(spec, namespace, data, owners)
            outcome = self._create_or_update(pod, spc_ref, desired)
            getattr(report, outcome).append(spec.secret_name)
            if outcome == "updated" and rotation:
                self.events.record(pod, ev.NORMAL, ev.SECRET_ROTATION_COMPLETE,
                                   f"successfully rotated K8s secret {spec.secret_name}")
        if self.metrics is not None and report.written:
            self.metrics.secret_synced(provider, len(report.written), time.monotonic() - started)
        return report

    def _create_or_update(self, pod: Mapping[str, Any], spc_ref: str, desired: dict) -> str:
        name = desired["metadata"]["name"]
        namespace = desired["metadata"]["namespace"]
        for _attempt in range(UPDATE_ATTEMPTS):
            try:
                existing = self.store.get("v1", "Secret", namespace, name)
            except NotFound:
                try:
                    self.store.create(desired)
                except AlreadyExists:
                    continue
                except ClusterError as error:
                    return self._failed(pod, spc_ref, name, error)
                log.info("created secret %s/%s for spc %s", namespace, name, spc_ref)
                return "created"
            if not is_managed(existing):
                self._warn(pod, f"failed to create secret {name} for spc {spc_ref}: a Secret "
                                f"{namespace}/{name} already exists and is not managed by the "
                                f"Secrets Store CSI driver (label {MANAGED_LABEL}=true is "
                                "missing); it is left unchanged")
                return "failed"
            merged = merged_secret(existing, desired)
            if merged == existing:
                return "unchanged"
            try:
                self.store.replace(merged)
            except (Conflict, NotFound):
                continue
            except ClusterError as error:
                return self._failed(pod, spc_ref, name, error)
            log.info("updated secret %s/%s for spc %s", namespace, name, spc_ref)
            return "updated"
        return self._failed(pod, spc_ref, name, "too many conflicting writes")

    def _failed(self, pod: Mapping[str, Any], spc_ref: str, name: str, error: object) -> str:
        self._warn(pod, f"failed to create Kubernetes secret {name} for spc {spc_ref}, "
                        f"err: {error}")
        return "failed"

    def _warn(self, pod: Mapping[str, Any], message: str) -> None:
        log.warning("%s", message)
        self.events.record(pod, ev.WARNING, ev.FAILED_TO_CREATE_SECRET, message,
                           component=ev.CONTROLLER_COMPONENT)
