"""v1 Node objects for the local nodes (kubelet's node registration and status).

Counterpart: kubelet's ``registerWithAPIServer`` / ``setNodeStatus``. Each node of
``cluster.json`` becomes a Node named after it, with the labels AKS nodes carry
(``kubernetes.io/hostname``, ``kubernetes.io/os: linux``, ``kubernetes.azure.com/agentpool``)
and a ``Ready`` condition. On shutdown the Ready condition turns ``Unknown`` with the node
lifecycle controller's text, so ``kubectl get nodes`` shows ``NotReady``.
"""

from __future__ import annotations

import logging
import platform
from typing import Any

from kvcsi.cluster.errors import ClusterError, NotFound
from kvcsi.cluster.objects import now_rfc3339
from kvcsi.node.discovery import ClusterSpec, NodeSpec
from kvcsi.node.plugins import node_labels
from kvcsi.node.pod_status import HOST_IP

log = logging.getLogger(__name__)

KUBELET_VERSION = "v1.33.0"


def ready_condition(ready: bool | None) -> dict[str, Any]:
    now = now_rfc3339()
    if ready is None:
        return {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status.",
                "lastHeartbeatTime": now, "lastTransitionTime": now}
    return {"type": "Ready", "status": "True" if ready else "False",
            "reason": "KubeletReady", "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now, "lastTransitionTime": now}


def node_object(cluster: ClusterSpec, node: NodeSpec) -> dict[str, Any]:
    annotations = {"kvcsi.dev/vm-id": node.vm_id}
    if cluster.resource_id:
        annotations["kvcsi.dev/cluster-resource-id"] = cluster.resource_id
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node.name, "labels": node_labels(node),
                     "annotations": annotations},
        "spec": {},
    }


def node_status(node: NodeSpec, ready: bool | None) -> dict[str, Any]:
    return {
        "conditions": [ready_condition(ready)],
        "addresses": [{"type": "InternalIP", "address": HOST_IP},
                      {"type": "Hostname", "address": node.name}],
        "nodeInfo": {"machineID": node.vm_id.replace("-", ""), "systemUUID": node.vm_id,
                     "kernelVersion": platform.release(), "osImage": "kvcsi local node",
                     "operatingSystem": "linux", "architecture": "amd64",
                     "containerRuntimeVersion": "kvcsi://host-processes",
                     "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": ""},
    }


def register(store: Any, cluster: ClusterSpec, node: NodeSpec) -> None:
    """Create or update the Node object and mark it Ready."""
    try:
        store.apply(node_object(cluster, node))
        store.update_status("v1", "Node", None, node.name, node_status(node, True))
    except ClusterError as error:
        log.warning("could not register node %s: %s", node.name, error)


def set_unknown(store: Any, node: NodeSpec) -> None:
    try:
        store.update_status("v1", "Node", None, node.name, node_status(node, None))
    except ClusterError as error:
        log.warning("could not mark node %s NotReady: %s", node.name, error)


def csi_node(node: str, drivers: dict[str, str]) -> dict[str, Any]:
    """The CSINode kubelet maintains: one entry per registered driver (name, nodeID)."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode",
            "metadata": {"name": node},
            "spec": {"drivers": [{"name": name, "nodeID": node_id, "topologyKeys": None}
                                 for name, node_id in sorted(drivers.items())]}}


def unregister(store: Any, name: str) -> None:
    for api_version, kind in (("v1", "Node"), ("storage.k8s.io/v1", "CSINode")):
        try:
            store.delete(api_version, kind, None, name)
        except NotFound:
            pass
        except ClusterError as error:
            log.warning("could not delete %s %s: %s", kind, name, error)
