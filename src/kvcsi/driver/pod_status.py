"""The SecretProviderClassPodStatus record written after every successful mount.

Upstream counterpart: ``createOrUpdateSecretProviderClassPodStatus`` in ``utils.go``
(reference notes §3.2). Name ``<pod>-<namespace>-<spc>`` in the pod's namespace, node label
``internal.secrets-store.csi.k8s.io/node-name``, one owner reference to the Pod (no
``controller`` / ``blockOwnerDeletion``) so garbage collection removes it with the pod, and
``status`` with the object versions sorted by id. On AlreadyExists (a same-named pod moved
nodes before GC) the existing record's node label, status and owner references are replaced.
"""

from __future__ import annotations

from collections.abc import Mapping

from kvcsi.driver.cluster_access import AlreadyExists, DriverClusterStore
from kvcsi.driver.spc import SPC_GROUP, PodRef

SPCPS_API_VERSION = f"{SPC_GROUP}/v1"
SPCPS_KIND = "SecretProviderClassPodStatus"
NODE_NAME_LABEL = "internal.secrets-store.csi.k8s.io/node-name"


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
    existing = store.get(SPCPS_API_VERSION, SPCPS_KIND, metadata["namespace"], metadata["name"])
    existing_metadata = existing.setdefault("metadata", {})
    labels = existing_metadata.get("labels") or {}
    labels[NODE_NAME_LABEL] = metadata["labels"][NODE_NAME_LABEL]
    existing_metadata["labels"] = labels
    existing_metadata["ownerReferences"] = metadata["ownerReferences"]
    existing["status"] = record["status"]
    return store.replace(existing)
