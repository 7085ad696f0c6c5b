"""A minimal scheduler: bind each unscheduled pod to the node with the fewest pods.

Counterpart: kube-scheduler's default profile, reduced to ``nodeSelector`` filtering and a
least-pods score (ties broken by node name). Binding sets ``spec.nodeName`` and the
``PodScheduled`` condition and records the scheduler's ``Scheduled`` event; a pod no node
fits gets ``PodScheduled=False`` (``Unschedulable``) and one ``FailedScheduling`` event.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kvcsi.cluster.errors import ClusterError
from kvcsi.node import events
from kvcsi.node.discovery import NodeSpec
from kvcsi.node.plugins import node_labels
from kvcsi.node.pod_status import scheduled_condition, unschedulable_condition

log = logging.getLogger(__name__)

TERMINAL_PHASES = ("Succeeded", "Failed")


def needs_scheduling(pod: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    metadata = pod.get("metadata") or {}
    return not spec.get("nodeName") and not metadata.get("deletionTimestamp")


def pod_counts(pods: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES:
            counts[node] = counts.get(node, 0) + 1
    return counts


def choose_node(pod: Mapping[str, Any], nodes: Sequence[NodeSpec],
                counts: Mapping[str, int]) -> NodeSpec | None:
    selector = (pod.get("spec") or {}).get("nodeSelector") or {}
    fitting = [node for node in nodes
               if all(node_labels(node).get(k) == v for k, v in selector.items())]
    if not fitting:
        return None
    return min(fitting, key=lambda node: (counts.get(node.name, 0), node.name))


def unschedulable_message(total: int) -> str:
    if total == 0:
        return "no nodes available to schedule pods"
    return (f"0/{total} nodes are available: {total} node(s) didn't match Pod's node "
            f"affinity/selector. preemption: 0/{total} nodes are available: {total} "
            "Preemption is not helpful for scheduling.")


def schedule_pending(store: Any, pods: Sequence[dict[str, Any]], nodes: Sequence[NodeSpec]) -> int:
    """Bind every pod without a node; returns how many were bound."""
    counts = pod_counts(pods)
    bound = 0
    for pod in pods:
        if not needs_scheduling(pod):
            continue
        metadata = pod["metadata"]
        node = choose_node(pod, nodes, counts)
        try:
            if node is None:
                _mark_unschedulable(store, pod, unschedulable_message(len(nodes)))
                continue
            fresh = store.get("v1", "Pod", metadata.get("namespace"), metadata["name"])
            fresh["spec"]["nodeName"] = node.name
            store.replace(fresh)
            status = dict(fresh.get("status") or {})
            status.setdefault("phase", "Pending")
            status["conditions"] = [c for c in status.get("conditions") or []
                                    if c.get("type") != "PodScheduled"] + [scheduled_condition()]
            store.update_status("v1", "Pod", metadata.get("namespace"), metadata["name"], status)
        except ClusterError as error:
            log.warning("could not bind pod %s/%s: %s", metadata.get("namespace"),
                        metadata["name"], error)
            continue
        counts[node.name] = counts.get(node.name, 0) + 1
        bound += 1
        events.record(store, pod, "Normal", events.SCHEDULED,
                      f"Successfully assigned {metadata.get('namespace')}/{metadata['name']} "
                      f"to {node.name}", component=events.SCHEDULER)
    return bound


def _mark_unschedulable(store: Any, pod: Mapping[str, Any], message: str) -> None:
    status = dict(pod.get("status") or {})
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("message") == message:
            return
    status["phase"] = "Pending"
    status["conditions"] = [c for c in status.get("conditions") or []
                            if c.get("type") != "PodScheduled"] + [unschedulable_condition(message)]
    metadata = pod["metadata"]
    store.update_status("v1", "Pod", metadata.get("namespace"), metadata["name"], status)
    events.record(store, pod, "Warning", events.FAILED_SCHEDULING, message,
                  component=events.SCHEDULER)
