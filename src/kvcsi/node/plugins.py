"""The driver and provider plugin processes of every node, derived from their DaemonSets.

On a real cluster the DaemonSet controller puts one ``csi-secrets-store`` and one
``csi-secrets-store-provider-azure`` pod on each node. Here the runtime finds the DaemonSets
labelled ``kvcsi.dev/component: driver`` / ``provider`` in the cluster store and runs the real
console scripts (``secrets-store-csi-driver``, ``secrets-store-csi-driver-provider-azure``) as
supervised processes on every matching node, with node-local sockets and the local cloud's
configuration (contract §4, §5). A handful of behaviour flags are taken over from the
DaemonSet container args (rotation, health checks, output options); flags naming host paths
or ports are always replaced by the node's own.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcsi.node.discovery import ClusterSpec, NodeSpec
from kvcsi.node.layout import HomeLayout
from kvcsi.node.socket_paths import short_dir, short_socket
from kvcsi.node.supervisor import ProcessSpec, SupervisedProcess

log = logging.getLogger(__name__)

COMPONENT_LABEL = "kvcsi.dev/component"
DRIVER_COMPONENT = "driver"
PROVIDER_COMPONENT = "provider"
DRIVER_SCRIPT = "secrets-store-csi-driver"
PROVIDER_SCRIPT = "secrets-store-csi-driver-provider-azure"

# Flags copied from the DaemonSet container args; value: True if the flag takes a value.
DRIVER_PASSTHROUGH_FLAGS: Mapping[str, bool] = {
    "enable-secret-rotation": False,
    "rotation-poll-interval": True,
    "provider-health-check": False,
    "provider-health-check-interval": True,
    "max-call-recv-msg-size": True,
    "drivername": True,
    "log-format-json": False,
    "v": True,
}
PROVIDER_PASSTHROUGH_FLAGS: Mapping[str, bool] = {
    "construct-pem-chain": False,
    "write-cert-and-key-in-separate-files": False,
    "healthz-path": True,
    "healthz-timeout": True,
    "log-format-json": False,
    "v": True,
}
# The socket name used to decide whether a provider directory needs a short alias.
LONGEST_PROVIDER_SOCKET = "azure.sock"
PREFERRED_CONTAINER = {DRIVER_COMPONENT: "secrets-store",
                       PROVIDER_COMPONENT: "provider-azure-installer"}


def console_script(name: str) -> str:
    """The console script next to this interpreter (same virtualenv), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name) or name


def passthrough_args(args: Sequence[str], allowed: Mapping[str, bool]) -> list[str]:
    """The allowed ``--flag[=value]`` / ``--flag value`` arguments, in their order."""
    kept: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith("-"):
            continue
        name, has_value, _ = arg.lstrip("-").partition("=")
        if name not in allowed:
            continue
        if has_value or not allowed[name]:
            kept.append(arg)
        elif index < len(args) and not args[index].startswith("-"):
            kept.append(f"--{name}={args[index]}")
            index += 1
    return kept


def plugin_container(daemonset: Mapping[str, Any], component: str) -> Mapping[str, Any]:
    """The container of the DaemonSet that runs the plugin itself (not a sidecar)."""
    containers = (((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers") or []
    for container in containers:
        if container.get("name") == PREFERRED_CONTAINER[component]:
            return container
    for container in containers:
        args = list(container.get("args") or []) + list(container.get("command") or [])
        if any(a.startswith("--endpoint") for a in args):
            return container
    return containers[0] if containers else {}


def node_labels(node: NodeSpec) -> dict[str, str]:
    """The labels the runtime registers its Node objects with."""
    return {
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.azure.com/agentpool": node.agent_pool,
        "agentpool": node.agent_pool,
    }


def selects_node(daemonset: Mapping[str, Any], node: NodeSpec) -> bool:
    """Whether the DaemonSet's ``nodeSelector`` matches the node's labels."""
    template_spec = ((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}
    selector = template_spec.get("nodeSelector") or {}
    labels = node_labels(node)
    return all(labels.get(key) == value for key, value in selector.items())


@dataclass(frozen=True)
class PluginContext:
    """Everything needed to build a node's plugin commands."""

    layout: HomeLayout
    cluster: ClusterSpec
    node: NodeSpec


def driver_process(ctx: PluginContext, daemonset: Mapping[str, Any]) -> ProcessSpec:
    node_dir = ctx.layout.cluster(ctx.cluster.root.name).node(ctx.node.name)
    container = plugin_container(daemonset, DRIVER_COMPONENT)
    argv = [
        console_script(DRIVER_SCRIPT),
        f"--endpoint=unix://{short_socket(node_dir.driver_socket)}",
        f"--nodeid={ctx.node.name}",
        f"--provider-volume={short_dir(node_dir.provider_dir, LONGEST_PROVIDER_SOCKET)}",
        "--additional-provider-volume-paths="
        f"{short_dir(node_dir.additional_provider_dir, LONGEST_PROVIDER_SOCKET)}",
        "--metrics-addr=",
        *passthrough_args(list(container.get("args") or []), DRIVER_PASSTHROUGH_FLAGS),
    ]
    env = dict(os.environ)
    env.update({
        "KVCSI_CLUSTER_STORE": str(ctx.cluster.store_path),
        "KVCSI_HOME": str(ctx.layout.home),
        "KVCSI_LOOPBACK_ONLY": "1",
        "KVCSI_RESOLVE_LOCALHOST": "1",
    })
    log_file = ctx.layout.plugin_log(ctx.cluster.root.name, ctx.node.name, DRIVER_COMPONENT)
    return ProcessSpec.build(argv, env, log_file)


def provider_process(ctx: PluginContext, daemonset: Mapping[str, Any]) -> ProcessSpec:
    node_dir = ctx.layout.cluster(ctx.cluster.root.name).node(ctx.node.name)
    container = plugin_container(daemonset, PROVIDER_COMPONENT)
    argv = [
        console_script(PROVIDER_SCRIPT),
        f"--endpoint=unix://{short_socket(node_dir.provider_socket)}",
        "--cloud-name=AzureStackCloud",
        "--healthz-port=0",
        "--prometheus-port=0",
        *passthrough_args(list(container.get("args") or []), PROVIDER_PASSTHROUGH_FLAGS),
    ]
    env = dict(os.environ)
    env.pop("KVCSI_CLUSTER_STORE", None)
    env.update({
        "AZURE_ENVIRONMENT_FILEPATH": str(ctx.layout.environment_file),
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": ctx.node.imds_endpoint,
        "REQUESTS_CA_BUNDLE": str(ctx.layout.ca_bundle),
        "KVCSI_RESOLVE_LOCALHOST": "1",
        "KVCSI_LOOPBACK_ONLY": "1",
    })
    log_file = ctx.layout.plugin_log(ctx.cluster.root.name, ctx.node.name, PROVIDER_COMPONENT)
    return ProcessSpec.build(argv, env, log_file)


BUILDERS = {DRIVER_COMPONENT: driver_process, PROVIDER_COMPONENT: provider_process}


def desired_plugins(layout: HomeLayout, cluster: ClusterSpec,
                    daemonsets: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], ProcessSpec]:
    """``(node, component) -> ProcessSpec`` for every plugin DaemonSet and matching node."""
    desired: dict[tuple[str, str], ProcessSpec] = {}
    for daemonset in daemonsets:
        labels = (daemonset.get("metadata") or {}).get("labels") or {}
        component = labels.get(COMPONENT_LABEL)
        if component not in BUILDERS:
            continue
        if (daemonset.get("metadata") or {}).get("deletionTimestamp"):
            continue
        for node in cluster.nodes:
            if selects_node(daemonset, node):
                ctx = PluginContext(layout, cluster, node)
                desired[(node.name, component)] = BUILDERS[component](ctx, daemonset)
    return desired


def daemonset_status(daemonset: Mapping[str, Any], scheduled: int, ready: int) -> dict[str, Any]:
    """The DaemonSet controller's status counters (``kubectl get ds`` columns)."""
    return {
        "currentNumberScheduled": scheduled,
        "desiredNumberScheduled": scheduled,
        "numberAvailable": ready,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberUnavailable": scheduled - ready,
        "observedGeneration": (daemonset.get("metadata") or {}).get("generation", 1),
        "updatedNumberScheduled": scheduled,
    }


class PluginSet:
    """The running plugin processes of one cluster, reconciled against the desired set."""

    def __init__(self, cluster_name: str) -> None:
        self._cluster = cluster_name
        self._running: dict[tuple[str, str], SupervisedProcess] = {}

    def reconcile(self, desired: Mapping[tuple[str, str], ProcessSpec]) -> None:
        for key, process in list(self._running.items()):
            if desired.get(key) != process.spec:
                process.stop()
                del self._running[key]
        for key, spec in desired.items():
            if key not in self._running:
                node, component = key
                spec.log_file.parent.mkdir(parents=True, exist_ok=True)
                name = f"{self._cluster}/{node} {component}"
                self._running[key] = SupervisedProcess(name, spec)
        self.poll()

    def poll(self) -> None:
        for process in self._running.values():
            process.poll()

    def running(self) -> dict[tuple[str, str], SupervisedProcess]:
        return dict(self._running)

    def stop(self, node: str | None = None) -> None:
        """Stop the plugins of one node, or of every node."""
        for key, process in list(self._running.items()):
            if node is None or key[0] == node:
                process.stop()
                del self._running[key]
