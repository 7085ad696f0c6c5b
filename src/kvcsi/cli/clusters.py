"""Local clusters: the node list ``kvcsi az aks create`` writes for the node runtime.

``clusters/<name>/cluster.json`` (contract §6) names the cluster's nodes — one per VMSS
instance of its node resource group — and each node's own IMDS address. The node
runtime watches these files; ``store.db`` beside it holds the cluster's objects.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from kvcsi.cli.az.ids import resource_group_id
from kvcsi.cli.home import Home
from kvcsi.cli.session import ARM_API_VERSIONS, Session

_COMPUTE_API = ARM_API_VERSIONS["Microsoft.Compute"]


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(partial, path)


def node_list(session: Session, node_resource_group: str) -> list[dict[str, str]]:
    """Every VMSS instance in the node resource group, as a local node."""
    group = resource_group_id(session.subscription_id, node_resource_group)
    scale_sets = session.arm_call(
        "GET", f"{group}/providers/Microsoft.Compute/virtualMachineScaleSets", _COMPUTE_API
    ).get("value", [])
    imds_base = str(session.endpoints["imds_base"]).rstrip("/")
    nodes = []
    for scale_set in scale_sets:
        machines = session.arm_call(
            "GET", f"{scale_set['id']}/virtualMachines", _COMPUTE_API).get("value", [])
        for machine in machines:
            properties = machine.get("properties", {})
            vm_id = properties["vmId"]
            nodes.append({
                "name": properties["osProfile"]["computerName"],
                "vmId": vm_id,
                "imdsEndpoint": f"{imds_base}/{vm_id}",
            })
    return sorted(nodes, key=lambda node: node["name"])


def register(session: Session, cluster: dict[str, Any]) -> Path:
    """Write (or refresh) the node list of one managed cluster; create its object store."""
    from kvcsi.cluster import connect

    name = cluster["name"]
    properties = cluster.get("properties", {})
    directory = session.home.cluster_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    connect(str(session.home.cluster_store(name)), create=True).close()
    _write_atomically(directory / "cluster.json", {
        "name": name,
        "resourceId": cluster["id"],
        "nodeResourceGroup": properties.get("nodeResourceGroup"),
        "nodes": node_list(session, properties["nodeResourceGroup"]),
    })
    return directory


def unregister(home: Home, name: str) -> None:
    directory = home.cluster_dir(name)
    cluster_file = directory / "cluster.json"
    if cluster_file.exists():
        cluster_file.unlink()
    if home.current_cluster() == name:
        home.current_cluster_file.unlink(missing_ok=True)
    shutil.rmtree(directory, ignore_errors=True)


def unregister_in_group(home: Home, resource_group_id: str) -> list[str]:
    """Unregister every cluster whose resource (or node resource group) was in a deleted
    resource group; returns their names."""
    prefix = resource_group_id.rstrip("/").lower() + "/"
    gone = []
    for name in registered(home):
        try:
            data = json.loads((home.cluster_dir(name) / "cluster.json").read_text())
        except (OSError, ValueError):
            continue
        node_group = str(data.get("nodeResourceGroup") or "").lower()
        if str(data.get("resourceId", "")).lower().startswith(prefix) \
                or prefix.rstrip("/").endswith("/resourcegroups/" + node_group):
            unregister(home, name)
            gone.append(name)
    return gone


def registered(home: Home) -> list[str]:
    if not home.clusters.is_dir():
        return []
    return sorted(p.parent.name for p in home.clusters.glob("*/cluster.json"))
