"""One local world for the pod-level provider cases, driven through the real ``kvcsi`` command.

Built on :func:`tests.cases.kvcsi_rotation_world.build_world` (``kvcsi up -d``, a one-node AKS
cluster, ``MyKeyVault`` with ``MySecret`` = ``s3cr3t``, the kubelet identity as *Key Vault
Secrets User*, driver and provider installed). Each case gets its own namespace with a pod
``mypod`` and a SecretProviderClass ``my-spc`` that syncs its first file to Secret
``app-secret``; all cases are applied in one ``kubectl apply`` so their mounts run side by
side. Helpers read the whole cluster in one call per kind, so polling stays cheap.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.cases.kvcsi_rotation_world import RotationWorld

VOLUME = "kv"
CREDS_SECRET = "secrets-store-creds"
USED_LABEL = {"secrets-store.csi.k8s.io/used": "true"}


@dataclass
class Case:
    """One namespace: the SPC's parameters and objects, the pod's ``nodePublishSecretRef``."""

    namespace: str
    parameters: dict[str, str]
    objects: str
    sync_file: str = "MySecret"
    secret_ref: str | None = None
    extra: list[dict[str, Any]] = field(default_factory=list)  # e.g. the ref Secret

    def documents(self) -> list[dict[str, Any]]:
        spc = {
            "apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
            "metadata": {"name": "my-spc", "namespace": self.namespace},
            "spec": {
                "provider": "azure",
                "secretObjects": [{"secretName": "app-secret", "type": "Opaque",
                                   "data": [{"objectName": self.sync_file, "key": "value"}]}],
                "parameters": {**self.parameters, "objects": self.objects},
            },
        }
        csi: dict[str, Any] = {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                               "volumeAttributes": {"secretProviderClass": "my-spc"}}
        if self.secret_ref:
            csi["nodePublishSecretRef"] = {"name": self.secret_ref}
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "mypod", "namespace": self.namespace},
            "spec": {
                "containers": [{"name": "app", "image": "busybox",
                                "command": ["sleep", "3600"],
                                "volumeMounts": [{"name": VOLUME,
                                                  "mountPath": "/mnt/secrets-store",
                                                  "readOnly": True}]}],
                "volumes": [{"name": VOLUME, "csi": csi}],
            },
        }
        namespace = {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": self.namespace}}
        return [namespace, *self.extra, spc, pod]


def opaque_secret(namespace: str, data: dict[str, str], labels: dict[str, str] | None = None
                  ) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": CREDS_SECRET, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


@dataclass
class PodLevelWorld:
    """The running world plus whole-cluster reads for the assertions."""

    world: RotationWorld
    sp_app_id: str = ""
    sp_password: str = ""
    vault_scope: str = ""

    @property
    def kvcsi(self):
        return self.world.kvcsi

    def az(self, *args: str) -> str:
        return self.kvcsi.out("az", *args)

    def apply_cases(self, cases: list[Case]) -> None:
        documents = [doc for case in cases for doc in case.documents()]
        self.world.apply(yaml.safe_dump_all(documents, sort_keys=False))

    def items(self, kind: str) -> list[dict[str, Any]]:
        return self.world.get(kind, "-A")["items"]

    def pod_events(self, namespace: str, reason: str | None = None) -> list[dict[str, Any]]:
        events = self.world.get("events", "-n", namespace)["items"]
        return [e for e in events if e["involvedObject"].get("name") == "mypod"
                and (reason is None or e["reason"] == reason)]

    def pod(self, namespace: str) -> dict[str, Any]:
        return self.world.get("pod", "mypod", "-n", namespace)

    def target(self, namespace: str) -> Path:
        uid = self.pod(namespace)["metadata"]["uid"]
        nodes = sorted((self.kvcsi.home / "clusters" / "aks" / "nodes").iterdir())
        return (nodes[0] / "pods" / uid / "volumes" / "kubernetes.io~csi" / VOLUME / "mount")

    def synced_secret(self, namespace: str) -> bytes | None:
        done = self.world.kubectl("get", "secret", "app-secret", "-n", namespace, "-o", "json",
                                  check=False)
        if done.returncode != 0:
            return None
        return base64.b64decode(json.loads(done.stdout)["data"]["value"])
