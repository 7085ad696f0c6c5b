"""The ``status`` kubelet writes for a pod: phase, conditions and container statuses.

Counterpart: kubelet's ``generateAPIPodStatus`` (``pkg/kubelet/kubelet_pods.go``) and the
condition helpers in ``pkg/kubelet/status``. Pods run as host processes here, so ``hostIP``
and ``podIP`` are both 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kvcsi.cluster.objects import now_rfc3339

HOST_IP = "127.0.0.1"


@dataclass
class ContainerRecord:
    """What kubelet knows about one container; turned into a ``containerStatuses`` entry."""

    name: str
    image: str
    state: dict[str, Any] = field(
        default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: dict[str, Any] = field(default_factory=dict)
    restart_count: int = 0
    container_id: str = ""

    @property
    def running(self) -> bool:
        return "running" in self.state

    @property
    def terminated(self) -> bool:
        return "terminated" in self.state

    def set_waiting(self, reason: str, message: str | None = None) -> None:
        waiting: dict[str, Any] = {"reason": reason}
        if message:
            waiting["message"] = message
        self.state = {"waiting": waiting}

    def set_running(self, container_id: str) -> None:
        self.container_id = container_id
        self.state = {"running": {"startedAt": now_rfc3339()}}

    def set_terminated(self, exit_code: int) -> None:
        started = (self.state.get("running") or {}).get("startedAt", now_rfc3339())
        self.state = {"terminated": {
            "exitCode": exit_code,
            "reason": "Completed" if exit_code == 0 else "Error",
            "startedAt": started,
            "finishedAt": now_rfc3339(),
            "containerID": self.container_id,
        }}

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "name": self.name,
            "state": self.state,
            "lastState": self.last_state,
            "ready": self.running,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": "",
            "started": self.running,
        }
        if self.container_id:
            status["containerID"] = self.container_id
        return status


def _condition(type_: str, true: bool, reason: str | None = None,
               message: str | None = None, since: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": type_, "status": "True" if true else "False",
                                 "lastProbeTime": None,
                                 "lastTransitionTime": since or now_rfc3339()}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def scheduled_condition() -> dict[str, Any]:
    return _condition("PodScheduled", True)


def unschedulable_condition(message: str) -> dict[str, Any]:
    return _condition("PodScheduled", False, "Unschedulable", message)


def phase_of(containers: Sequence[ContainerRecord], restart_policy: str) -> str:
    """Pending until every container has started; Succeeded/Failed once all terminated."""
    if any("waiting" in c.state and c.restart_count == 0 and not c.last_state
           for c in containers):
        return "Pending"
    if containers and all(c.terminated for c in containers):
        if restart_policy == "Always":
            return "Running"
        codes = [c.state["terminated"]["exitCode"] for c in containers]
        return "Succeeded" if all(code == 0 for code in codes) else "Failed"
    return "Running"


def pod_status(pod: Mapping[str, Any], containers: Sequence[ContainerRecord],
               volumes_ready: bool, start_time: str, since: Mapping[str, str]) -> dict[str, Any]:
    """The whole ``status``; ``since`` keeps each condition's lastTransitionTime stable."""
    spec = pod.get("spec") or {}
    phase = phase_of(containers, spec.get("restartPolicy", "Always"))
    unready = [c.name for c in containers if not c.running]
    all_ready = not unready and phase == "Running"
    not_ready_message = f"containers with unready status: [{' '.join(unready)}]"
    completed = phase in ("Succeeded", "Failed")
    reason = "PodCompleted" if completed else "ContainersNotReady"

    def stable(type_: str, value: bool, **kwargs: Any) -> dict[str, Any]:
        key = f"{type_}={value}"
        return _condition(type_, value, since=since.get(key), **kwargs)

    conditions = [
        stable("PodReadyToStartContainers", volumes_ready),
        stable("Initialized", True),
        stable("Ready", all_ready, **({} if all_ready else
                                      {"reason": reason, "message": not_ready_message})),
        stable("ContainersReady", all_ready, **({} if all_ready else
                                                {"reason": reason,
                                                 "message": not_ready_message})),
        stable("PodScheduled", True),
    ]
    return {
        "phase": phase,
        "conditions": conditions,
        "hostIP": HOST_IP,
        "hostIPs": [{"ip": HOST_IP}],
        "podIP": HOST_IP,
        "podIPs": [{"ip": HOST_IP}],
        "startTime": start_time,
        "containerStatuses": [c.to_status() for c in containers],
        "qosClass": "BestEffort",
    }


def remember_transitions(status: Mapping[str, Any], since: dict[str, str]) -> None:
    """Keep the first time each condition reached its current value."""
    for condition in status.get("conditions") or []:
        key = f"{condition['type']}={condition['status'] == 'True'}"
        since.setdefault(key, condition["lastTransitionTime"])
        other = f"{condition['type']}={condition['status'] != 'True'}"
        since.pop(other, None)
