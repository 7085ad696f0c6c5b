"""The SecretProviderClassPodStatus record written after every successful mount.

Upstream counterpart: ``createOrUpdateSecretProviderClassPodStatus`` in ``utils.go``
(reference notes §3.2). Name ``<pod>-<namespace>-<spc>`` in the pod's namespace, node label
``internal.secrets-store.csi.k8s.io/node-name``, one owner reference to the Pod (no
``controller`` / ``blockOwnerDeletion``) so garbage collection removes it with the pod, and
``status`` with the object versions sorted by id. On AlreadyExists (a same-named pod moved
nodes before GC) the existing record's node label, status and owner references are replaced
with a PUT carrying the read ``resourceVersion``; a ``Conflict`` (someone wrote in between)
re-reads and retries, as client-go's ``RetryOnConflict`` does.

The CVE-2020-8568 guard lives here too: a ``status.targetPath`` is used only when it is
exactly ``<kubelet>/pods/<pod uid>/volumes/kubernetes.io~csi/<volume>/mount`` for the live
pod's uid and the name of its volume that uses this driver and this SecretProviderClass
(upstream's rule), and, beyond upstream, when it is an absolute, clean path (no ``..``, no
doubled separators) with no symlink on the way and, when the kubelet pods directory is
known, inside it.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from kvcsi.cluster.errors import Conflict
from kvcsi.driver.cluster_access import AlreadyExists, DriverClusterStore
from kvcsi.driver.errors import DriverError
from kvcsi.driver.spc import SECRET_PROVIDER_CLASS_KEY, SPC_GROUP, PodRef

SPCPS_API_VERSION = f"{SPC_GROUP}/v1"
SPCPS_KIND = "SecretProviderClassPodStatus"
NODE_NAME_LABEL = "internal.secrets-store.csi.k8s.io/node-name"
UPDATE_ATTEMPTS = 5
UNEXPECTED_TARGET_PATH = "UnexpectedTargetPath"
TARGET_PATH_RE = re.compile(
    r"^(?P<root>/.*)/pods/(?P<uid>[^/]+)/volumes/kubernetes\.io~csi/(?P<volume>[^/]+)/mount$"
)


class UnexpectedTargetPath(DriverError):
    """A pod status record names a target path that is not this pod's volume (CVE-2020-8568)."""

    error_type = UNEXPECTED_TARGET_PATH


def pod_status_name(pod: PodRef, spc_name: str) -> str:
    return f"{pod.name}-{pod.namespace}-{spc_name}"


def build_pod_status(
    pod: PodRef,
    spc_name: str,
    target_path: str,
    node_id: str,
    object_versions: Mapping[str, str],
) -> dict:
    """The record as the driver writes it (``mounted`` is always true when written)."""
    return {
        "apiVersion": SPCPS_API_VERSION,
        "kind": SPCPS_KIND,
        "metadata": {
            "name": pod_status_name(pod, spc_name),
            "namespace": pod.namespace,
            "labels": {NODE_NAME_LABEL: node_id},
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Pod", "name": pod.name, "uid": pod.uid}
            ],
        },
        "status": {
            "podName": pod.name,
            "secretProviderClassName": spc_name,
            "mounted": True,
            "targetPath": target_path,
            "objects": [
                {"id": object_id, "version": object_versions[object_id]}
                for object_id in sorted(object_versions)
            ],
        },
    }


def create_or_update_pod_status(store: DriverClusterStore, record: dict) -> dict:
    """Create ``record``; if it exists, overwrite its node label, status and owners."""
    try:
        return store.create(record)
    except AlreadyExists:
        pass
    metadata = record["metadata"]
    for attempt in range(UPDATE_ATTEMPTS):
        existing = store.get(
            SPCPS_API_VERSION, SPCPS_KIND, metadata["namespace"], metadata["name"]
        )
        existing_metadata = existing.setdefault("metadata", {})
        labels = existing_metadata.get("labels") or {}
        labels[NODE_NAME_LABEL] = metadata["labels"][NODE_NAME_LABEL]
        existing_metadata["labels"] = labels
        existing_metadata["ownerReferences"] = metadata["ownerReferences"]
        existing["status"] = record["status"]
        try:
            return store.replace(existing)  # carries the resourceVersion just read
        except Conflict:
            if attempt == UPDATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def csi_volume_names(pod: Mapping[str, Any], spc_name: str, driver_name: str) -> list[str]:
    """Names of the pod's inline CSI volumes of ``driver_name`` that use ``spc_name``."""
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        csi = volume.get("csi") or {}
        attributes = csi.get("volumeAttributes") or {}
        uses_spc = attributes.get(SECRET_PROVIDER_CLASS_KEY) == spc_name
        if csi.get("driver") == driver_name and uses_spc:
            names.append(str(volume.get("name", "")))
    return names


def check_status_target_path(
    target_path: str,
    pod: Mapping[str, Any],
    spc_name: str,
    driver_name: str,
    kubelet_pods_dir: str | None = None,
) -> str:
    """Return ``target_path`` if it is this pod's volume for ``spc_name``; else refuse it.

    ``pod`` is the live Pod object (its uid and volumes decide). Raises
    :class:`UnexpectedTargetPath` with a text that names the path and the reason.
    """

    def refuse(reason: str) -> UnexpectedTargetPath:
        return UnexpectedTargetPath(f"unexpected target path {target_path!r}: {reason}")

    if not target_path.startswith("/") or posixpath.normpath(target_path) != target_path:
        raise refuse("not an absolute, clean path")
    match = TARGET_PATH_RE.match(target_path)
    if match is None:
        raise refuse("not a kubelet CSI volume mount path")
    metadata = pod.get("metadata") or {}
    if match["uid"] != metadata.get("uid"):
        raise refuse(f"pod uid does not match {metadata.get('namespace')}/{metadata.get('name')}")
    if match["volume"] not in csi_volume_names(pod, spc_name, driver_name):
        raise refuse(f"no volume {match['volume']!r} of this pod uses {spc_name}")
    pods_dir = match["root"] + "/pods"
    if kubelet_pods_dir is not None and pods_dir != posixpath.normpath(kubelet_pods_dir):
        raise refuse(f"outside the kubelet pods directory {kubelet_pods_dir}")
    below = target_path[len(pods_dir) :]
    if os.path.lexists(target_path) and os.path.realpath(target_path) != (
        os.path.realpath(pods_dir) + below
    ):
        raise refuse("the path passes through a symbolic link")
    return target_path
