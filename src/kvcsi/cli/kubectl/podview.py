"""What kubectl shows of a pod: ``get`` columns and the ``describe`` page."""

from __future__ import annotations

from typing import Any

from kvcsi.cli.kubectl.timefmt import age


def pod_status_word(pod: dict[str, Any]) -> str:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    for status in pod.get("status", {}).get("containerStatuses", []) or []:
        waiting = status.get("state", {}).get("waiting")
        if waiting:
            return str(waiting.get("reason", "Waiting"))
        terminated = status.get("state", {}).get("terminated")
        if terminated and pod.get("status", {}).get("phase") not in ("Succeeded", "Failed"):
            return str(terminated.get("reason", "Error"))
    phase = pod.get("status", {}).get("phase", "Pending")
    if phase == "Pending" and pod.get("spec", {}).get("nodeName"):
        return "ContainerCreating"
    return str(phase)


def ready_count(pod: dict[str, Any]) -> str:
    containers = pod.get("spec", {}).get("containers", [])
    statuses = pod.get("status", {}).get("containerStatuses", []) or []
    ready = sum(1 for status in statuses if status.get("ready"))
    return f"{ready}/{len(containers)}"


def restarts(pod: dict[str, Any]) -> int:
    return sum(int(s.get("restartCount", 0))
               for s in pod.get("status", {}).get("containerStatuses", []) or [])


def is_ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in pod.get("status", {}).get("conditions", []) or [])


def _event_rows(events: list[dict[str, Any]]) -> list[str]:
    if not events:
        return ["Events:  <none>"]
    rows = []
    for event in events:
        count = int(event.get("count", 1))
        last = age(event.get("lastTimestamp"))
        when = f"{last} (x{count} over {age(event.get('firstTimestamp'))})" if count > 1 else last
        source = event.get("source", {}).get("component", "")
        rows.append([event.get("type", ""), event.get("reason", ""), when, source,
                     event.get("message", "")])
    headers = ["Type", "Reason", "Age", "From", "Message"]
    widths = [max(len(headers[i]), *(len(str(r[i])) for r in rows)) for i in range(4)]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join(str(c).ljust(w) for c, w in zip(cells[:4], widths, strict=True)) \
            + "  " + str(cells[4])

    return ["Events:", line(headers), line(["-" * len(h) for h in headers]),
            *(line(row) for row in rows)]


def describe_pod(pod: dict[str, Any], events: list[dict[str, Any]]) -> str:
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    node = spec.get("nodeName")
    lines = [
        f"Name:             {meta.get('name')}",
        f"Namespace:        {meta.get('namespace', 'default')}",
        f"Service Account:  {spec.get('serviceAccountName', 'default')}",
        f"Node:             {node + '/' + status.get('hostIP', '') if node else '<none>'}",
        f"Start Time:       {status.get('startTime', '<none>')}",
        f"Status:           {status.get('phase', 'Pending')}",
        "Containers:",
    ]
    statuses = {s.get("name"): s for s in status.get("containerStatuses", []) or []}
    for container in spec.get("containers", []):
        state = statuses.get(container["name"], {}).get("state", {})
        lines.append(f"  {container['name']}:")
        lines.append(f"    Image:          {container.get('image', '')}")
        if container.get("command"):
            lines.append(f"    Command:        {' '.join(container['command'])}")
        for state_name, detail in state.items():
            lines.append(f"    State:          {state_name.capitalize()}")
            if detail.get("reason"):
                lines.append(f"      Reason:       {detail['reason']}")
        ready = statuses.get(container["name"], {}).get("ready", False)
        lines.append(f"    Ready:          {ready}")
        lines.append("    Mounts:")
        for mount in container.get("volumeMounts", []) or []:
            mode = "ro" if mount.get("readOnly") else "rw"
            lines.append(f"      {mount['mountPath']} from {mount['name']} ({mode})")
    lines.append("Conditions:")
    lines.append("  Type              Status")
    for condition in status.get("conditions", []) or []:
        lines.append(f"  {condition.get('type', ''):<17} {condition.get('status', '')}")
    lines.append("Volumes:")
    for volume in spec.get("volumes", []) or []:
        lines.append(f"  {volume['name']}:")
        csi = volume.get("csi")
        if csi:
            pairs = (csi.get("volumeAttributes") or {}).items()
            attributes = ", ".join(f"{k}={v}" for k, v in pairs)
            lines += [
                "    Type:              CSI (a Container Storage Interface (CSI) volume source)",
                f"    Driver:            {csi.get('driver', '')}",
                f"    FSType:            {csi.get('fsType', '')}",
                f"    ReadOnly:          {str(bool(csi.get('readOnly'))).lower()}",
                f"    VolumeAttributes:      {attributes}",
            ]
    lines += _event_rows(events)
    return "\n".join(lines)
