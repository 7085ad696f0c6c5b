"""``kvcsi explain pod``: a pod's whole chain, from its volumes to Key Vault's decision.

For each Secrets Store CSI volume of the pod: its SecretProviderClass (cluster store), the
identity mode the Azure provider would pick (``kvcsi.provider.auth``'s rules: VM managed
identity with or without ``userAssignedIdentityID``, workload identity ``clientID``, service
principal from ``nodePublishSecretRef``), the node the pod runs on (``cluster.json`` gives
its vmId) — then the cloud answers which identity IMDS really returns there and what RBAC
decides for each object.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kvcsi.cli.explain import ExplainFailure, ask
from kvcsi.cli.explain_text import answer_lines
from kvcsi.cli.session import Session

CSI_DRIVER = "secrets-store.csi.k8s.io"
SPC_API_VERSION = "secrets-store.csi.x-k8s.io/v1"
OBJECT_TYPES = {"secret": "secret", "key": "key", "cert": "certificate"}
TRUE_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def _flag(parameters: dict[str, str], name: str) -> bool:
    return str(parameters.get(name, "")).strip() in TRUE_WORDS


def _cluster(session: Session, name: str | None) -> tuple[str, Any, dict[str, Any]]:
    from kvcsi.cluster import connect
    from kvcsi.cluster.errors import ClusterUnavailable

    cluster = name or session.home.current_cluster()
    if not cluster:
        raise ExplainFailure("no cluster selected: create one with `kvcsi az aks create` or "
                             "pass --cluster")
    try:
        store = connect(str(session.home.cluster_store(cluster)))
        nodes = json.loads((session.home.cluster_dir(cluster) / "cluster.json").read_text())
    except (ClusterUnavailable, FileNotFoundError, ValueError) as error:
        raise ExplainFailure(f"cluster '{cluster}' is not available: {error}") from None
    return cluster, store, nodes


def _node(pod: dict[str, Any], nodes: dict[str, Any]) -> tuple[dict[str, Any], str]:
    listed = nodes.get("nodes") or []
    name = (pod.get("spec") or {}).get("nodeName")
    if not name:
        if not listed:
            raise ExplainFailure("the pod is not scheduled and the cluster has no nodes")
        return listed[0], (f"the pod is not scheduled yet; assuming node "
                           f"'{listed[0]['name']}'")
    for node in listed:
        if node["name"] == name:
            return node, f"the pod runs on node '{name}'"
    raise ExplainFailure(f"node '{name}' of the pod is not a node of this cluster")


def _objects(parameters: dict[str, str]) -> list[dict[str, str]]:
    from kvcsi.provider.errors import MountError
    from kvcsi.provider.objects import parse_objects

    try:
        parsed = parse_objects(str(parameters.get("objects", "")))
    except MountError as error:
        raise ExplainFailure(str(error)) from None
    return [{"type": OBJECT_TYPES.get(o.object_type.lower(), o.object_type.lower()),
             "name": o.object_name} for o in parsed]


def _service_principal(store: Any, namespace: str, volume: dict[str, Any]) -> str:
    from kvcsi.cluster.errors import NotFound

    reference = ((volume.get("csi") or {}).get("nodePublishSecretRef") or {}).get("name")
    if not reference:
        raise ExplainFailure("no identity mode: useVMManagedIdentity is not set, clientID is "
                             "empty and the volume has no nodePublishSecretRef")
    try:
        secret = store.get("v1", "Secret", namespace, reference)
    except NotFound:
        raise ExplainFailure(f"nodePublishSecretRef secret '{namespace}/{reference}' not "
                             "found") from None
    data = {k.lower(): v for k, v in (secret.get("data") or {}).items()}
    if "clientid" not in data:
        raise ExplainFailure(f"could not find clientid in secrets({reference})")
    return base64.b64decode(data["clientid"]).decode().strip()


def _identity(store: Any, namespace: str, volume: dict[str, Any],
              parameters: dict[str, str], node: dict[str, Any]
              ) -> tuple[str, dict[str, Any]]:
    """``(mode description, identity part of the question)`` as the provider picks it."""
    if _flag(parameters, "usePodIdentity") or _flag(parameters, "useAzureTokenProxy"):
        raise ExplainFailure("usePodIdentity / useAzureTokenProxy are not supported by kvcsi")
    if _flag(parameters, "useVMManagedIdentity"):
        client_id = str(parameters.get("userAssignedIdentityID", "")).strip()
        mode = ("VM managed identity, userAssignedIdentityID "
                f"'{client_id}'" if client_id else
                "VM managed identity without userAssignedIdentityID (IMDS picks the identity)")
        return mode, {"vmId": node["vmId"], **({"clientId": client_id} if client_id else {})}
    client_id = str(parameters.get("clientID", "")).strip()
    if client_id:
        return (f"workload identity, clientID '{client_id}' (the service account token is "
                "exchanged for that identity's token)"), {"assignee": client_id}
    client_id = _service_principal(store, namespace, volume)
    return (f"service principal from nodePublishSecretRef, client id '{client_id}'",
            {"assignee": client_id})


def _volume_report(session: Session, store: Any, namespace: str, volume: dict[str, Any],
                   node: dict[str, Any]) -> dict[str, Any]:
    from kvcsi.cluster.errors import NotFound

    class_name = ((volume.get("csi") or {}).get("volumeAttributes") or {}).get(
        "secretProviderClass", "")
    report: dict[str, Any] = {"volume": volume.get("name"), "secretProviderClass": class_name,
                              "allowed": False}
    try:
        spc = store.get(SPC_API_VERSION, "SecretProviderClass", namespace, class_name)
    except NotFound:
        report["error"] = (f"failed to get secretproviderclass {namespace}/{class_name}, "
                           "error: SecretProviderClass.secrets-store.csi.x-k8s.io "
                           f"\"{class_name}\" not found")
        return report
    parameters = (spc.get("spec") or {}).get("parameters") or {}
    try:
        mode, identity = _identity(store, namespace, volume, parameters, node)
        question = {"identity": identity, "vault": parameters.get("keyvaultName", ""),
                    "objects": _objects(parameters)}
    except ExplainFailure as error:
        report["error"] = str(error)
        return report
    answer = ask(session, question)
    report.update(identityMode=mode, vault=question["vault"], explanation=answer,
                  allowed=answer["allowed"])
    return report


def explain_pod(session: Session, namespace: str, name: str,
                cluster_name: str | None) -> dict[str, Any]:
    """The whole chain of one pod, as a JSON-ready report."""
    from kvcsi.cluster.errors import NotFound

    cluster, store, nodes = _cluster(session, cluster_name)
    try:
        pod = store.get("v1", "Pod", namespace, name)
    except NotFound:
        raise ExplainFailure(f'pods "{name}" not found in namespace "{namespace}" of '
                             f"cluster '{cluster}'") from None
    node, placement = _node(pod, nodes)
    volumes = [v for v in (pod.get("spec") or {}).get("volumes") or []
               if (v.get("csi") or {}).get("driver") == CSI_DRIVER]
    if not volumes:
        raise ExplainFailure(f"pod {namespace}/{name} has no {CSI_DRIVER} volume")
    reports = [_volume_report(session, store, namespace, v, node) for v in volumes]
    return {"pod": {"namespace": namespace, "name": name}, "cluster": cluster,
            "node": {"name": node["name"], "vmId": node["vmId"]}, "placement": placement,
            "volumes": reports, "allowed": all(r["allowed"] for r in reports)}


def pod_lines(report: dict[str, Any]) -> list[str]:
    """Human text of :func:`explain_pod`'s report."""
    pod = report["pod"]
    lines = [f"pod {pod['namespace']}/{pod['name']} (cluster '{report['cluster']}'): "
             f"{report['placement']}"]
    for volume in report["volumes"]:
        lines.append(f"volume '{volume['volume']}' -> SecretProviderClass "
                     f"'{volume['secretProviderClass']}'")
        if "error" in volume:
            lines.append(f"  DENIED: the mount fails: {volume['error']}")
            continue
        lines.append(f"  identity mode: {volume['identityMode']}")
        lines += answer_lines(volume["explanation"], indent="  ")
    lines.append("result: " + ("ALLOWED" if report["allowed"] else "DENIED"))
    return lines
