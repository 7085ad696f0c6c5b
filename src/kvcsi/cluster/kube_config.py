"""Choosing and loading the Kubernetes API configuration (in-cluster or kubeconfig).

Counterpart: client-go's ``rest.InClusterConfig`` / ``clientcmd`` loading rules, through the
official client's ``kubernetes.config`` loaders. How :func:`kvcsi.cluster.connect` picks the
Kubernetes API instead of a local ``store.db`` (documented in local-wiring §6):

- a spec ``kube:`` (in-cluster when ``KUBERNETES_SERVICE_HOST`` is set, otherwise the
  default kubeconfig), ``kube:in-cluster``, or ``kube:<kubeconfig path>[#<context>]``;
- with no spec and no ``$KVCSI_CLUSTER_STORE``: ``$KVCSI_CLUSTER=kubernetes`` (same choice
  as ``kube:``), or ``KUBERNETES_SERVICE_HOST`` set (a pod: in-cluster config).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kvcsi.cluster.errors import ClusterUnavailable

KUBE_SPEC_PREFIX = "kube:"
CLUSTER_KIND_ENV = "KVCSI_CLUSTER"
KUBERNETES_CLUSTER_KIND = "kubernetes"
SERVICE_HOST_ENV = "KUBERNETES_SERVICE_HOST"
IN_CLUSTER = "in-cluster"


@dataclass(frozen=True)
class KubeTarget:
    """Where the API configuration comes from: in-cluster, or a kubeconfig (+ context)."""

    in_cluster: bool
    kubeconfig: str | None = None
    context: str | None = None

    def describe(self) -> str:
        if self.in_cluster:
            return "in-cluster configuration"
        where = self.kubeconfig or "the default kubeconfig"
        return f"{where} (context {self.context})" if self.context else where


def is_kube_spec(spec: str) -> bool:
    return spec.startswith(KUBE_SPEC_PREFIX)


def target_from_spec(spec: str) -> KubeTarget:
    """``kube:`` / ``kube:in-cluster`` / ``kube:<path>[#<context>]``."""
    rest = spec[len(KUBE_SPEC_PREFIX) :]
    if rest == IN_CLUSTER:
        return KubeTarget(in_cluster=True)
    if not rest:
        return default_target()
    path, _, context = rest.partition("#")
    return KubeTarget(in_cluster=False, kubeconfig=path, context=context or None)


def default_target() -> KubeTarget:
    """In-cluster inside a pod, otherwise ``$KUBECONFIG`` / ``~/.kube/config``."""
    if os.environ.get(SERVICE_HOST_ENV):
        return KubeTarget(in_cluster=True)
    return KubeTarget(in_cluster=False, kubeconfig=os.environ.get("KUBECONFIG") or None)


def target_from_environment() -> KubeTarget | None:
    """The Kubernetes API chosen by the environment alone, or None (use the local store)."""
    if os.environ.get(CLUSTER_KIND_ENV, "").lower() == KUBERNETES_CLUSTER_KIND:
        return default_target()
    if os.environ.get(SERVICE_HOST_ENV):
        return KubeTarget(in_cluster=True)
    return None


def load_configuration(target: KubeTarget):  # -> kubernetes.client.Configuration
    """A client Configuration for ``target``; failures are :class:`ClusterUnavailable`."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    try:
        if target.in_cluster:
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(
                config_file=target.kubeconfig,
                context=target.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except (ConfigException, OSError, ValueError) as error:
        raise ClusterUnavailable(
            f"no cluster: cannot load the Kubernetes API configuration from "
            f"{target.describe()}: {error}"
        ) from error
    return configuration
