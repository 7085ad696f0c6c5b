"""kubelet's volume manager for one pod: set up and tear down the pod's volumes.

Counterpart: ``pkg/volume/csi/csi_mounter.go`` (``SetUpAt`` / ``TearDownAt``) for inline CSI
volumes, plus the simple in-tree kinds a pod here may use (``emptyDir``, ``hostPath``,
``secret``, ``configMap``). For a CSI volume kubelet, in this order: finds the registered
driver; checks the CSIDriver object allows ``Ephemeral``; creates the volume dir (0750);
reads the ``nodePublishSecretRef`` Secret; adds the pod-info keys when
``podInfoOnMount: true``; adds the service-account tokens of the CSIDriver's
``tokenRequests`` (:mod:`kvcsi.node.service_account_tokens`); saves ``vol_data.json``; calls
NodePublishVolume. The volume id of
an inline volume is ``csi-<sha256(podUID + volumeName)>`` (``makeVolumeHandle``). Each error
text here is the one kubelet puts after ``MountVolume.SetUp failed for volume "<vol>" : ``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from kvcsi.cluster.errors import NotFound
from kvcsi.node import csi_client
from kvcsi.node.csi_client import CSICallError, PublishRequest
from kvcsi.node.layout import PodLayout
from kvcsi.node.registration import PluginRegistry
from kvcsi.node.service_account_tokens import ServiceAccountTokenError, ServiceAccountTokens

log = logging.getLogger(__name__)

POD_NAME_KEY = "csi.storage.k8s.io/pod.name"
POD_NAMESPACE_KEY = "csi.storage.k8s.io/pod.namespace"
POD_UID_KEY = "csi.storage.k8s.io/pod.uid"
SERVICE_ACCOUNT_KEY = "csi.storage.k8s.io/serviceAccount.name"
EPHEMERAL_KEY = "csi.storage.k8s.io/ephemeral"
VOL_DATA_FILE = "vol_data.json"
CSI_LOG_PREFIX = "kubernetes.io/csi: "

# gRPC codes after which kubelet treats the operation as possibly still in progress.
NON_FINAL_CODES = {grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED,
                   grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
                   grpc.StatusCode.ABORTED}


class VolumeSetupError(Exception):
    """A failed SetUp; ``str()`` is the text after ``MountVolume.SetUp failed ... : ``."""


def setup_failed_message(volume: str, error: Exception) -> str:
    """The FailedMount event message kubelet records."""
    return f'MountVolume.SetUp failed for volume "{volume}" : {error}'


def volume_handle(pod_uid: str, volume_name: str) -> str:
    """kubelet's ``makeVolumeHandle``: ``csi-`` + sha256 hex of ``podUID + volumeName``."""
    return "csi-" + hashlib.sha256(f"{pod_uid}{volume_name}".encode()).hexdigest()


def not_registered_text(driver: str) -> str:
    return (f"{CSI_LOG_PREFIX}mounter.SetUpAt failed to get CSI client: driver name {driver} "
            "not found in the list of registered CSI drivers")


def go_quoted_list(values: list[str]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["Persistent" "Ephemeral"]``."""
    return "[" + " ".join(json.dumps(value) for value in values) + "]"


def check_lifecycle_mode(driver: str, csi_driver: Mapping[str, Any] | None) -> None:
    """The CSIDriver object must list ``Ephemeral`` for an inline volume."""
    if csi_driver is None:
        reason = f'volume mode "Ephemeral" not supported by driver {driver} (no CSIDriver object)'
    else:
        modes = list((csi_driver.get("spec") or {}).get("volumeLifecycleModes") or ["Persistent"])
        if "Ephemeral" in modes:
            return
        reason = (f'volume mode "Ephemeral" not supported by driver {driver} '
                  f"(only supports {go_quoted_list(modes)})")
    raise VolumeSetupError(
        f"{CSI_LOG_PREFIX}mounter.SetupAt failed to check volume lifecycle mode: {reason}")


def decoded_secret_data(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's ``data`` (base64) decoded to strings, with ``stringData`` on top."""
    values = {key: base64.b64decode(value).decode("utf-8", errors="replace")
              for key, value in (secret.get("data") or {}).items()}
    values.update({key: str(value) for key, value in (secret.get("stringData") or {}).items()})
    return values


def publish_secrets(store: Any, namespace: str, csi: Mapping[str, Any]) -> dict[str, str]:
    ref = csi.get("nodePublishSecretRef") or {}
    if not ref.get("name"):
        return {}
    try:
        secret = store.get("v1", "Secret", namespace, ref["name"])
    except NotFound as error:
        raise VolumeSetupError(
            f"fetching NodePublishSecretRef {namespace}/{ref['name']} failed: {error}") from None
    return decoded_secret_data(secret)


def pod_info_attributes(pod: Mapping[str, Any]) -> dict[str, str]:
    """kubelet's ``getPodInfoAttrs`` for an ephemeral volume."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    return {
        POD_NAME_KEY: metadata.get("name", ""),
        POD_NAMESPACE_KEY: metadata.get("namespace", "default"),
        POD_UID_KEY: metadata.get("uid", ""),
        SERVICE_ACCOUNT_KEY: spec.get("serviceAccountName") or "default",
        EPHEMERAL_KEY: "true",
    }


def build_publish_request(store: Any, pod: Mapping[str, Any], volume: Mapping[str, Any],
                          target: Path, csi_driver: Mapping[str, Any] | None,
                          tokens: ServiceAccountTokens | None = None) -> PublishRequest:
    """The NodePublishVolume request kubelet sends for one inline CSI volume."""
    csi = volume.get("csi") or {}
    metadata = pod.get("metadata") or {}
    secrets = publish_secrets(store, metadata.get("namespace", "default"), csi)
    context = {str(k): str(v) for k, v in (csi.get("volumeAttributes") or {}).items()}
    if csi_driver is not None and (csi_driver.get("spec") or {}).get("podInfoOnMount"):
        context.update(pod_info_attributes(pod))
    if tokens is not None:
        try:
            context.update(tokens.attributes(store, pod, csi_driver))
        except ServiceAccountTokenError as error:
            raise VolumeSetupError(f"{CSI_LOG_PREFIX}mounter.SetUpAt failed to get service "
                                   f"accoount token attributes: {error}") from None
    return PublishRequest(
        volume_id=volume_handle(metadata.get("uid", ""), volume["name"]),
        target_path=str(target),
        readonly=bool(csi.get("readOnly", False)),
        volume_context=context,
        secrets=secrets,
        fs_type=str(csi.get("fsType") or ""),
    )


def get_csi_driver(store: Any, driver: str) -> dict[str, Any] | None:
    try:
        return store.get("storage.k8s.io/v1", "CSIDriver", None, driver)
    except NotFound:
        return None


@dataclass
class MountedVolume:
    """A volume that is set up: where it is on the host, and how to tear it down."""

    name: str
    host_path: Path
    csi_driver: str | None = None
    volume_id: str | None = None


def remove_mount_dir(target: Path) -> None:
    """kubelet's ``removeMountDir``: if not mounted, remove target, vol_data.json, vol dir."""
    if target.is_mount():
        return
    for path, remove in ((target, os.rmdir), (target.parent / VOL_DATA_FILE, os.unlink),
                         (target.parent, os.rmdir)):
        try:
            remove(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            log.warning("cannot remove %s: %s", path, error)


def setup_csi(store: Any, registry: PluginRegistry, pod: Mapping[str, Any],
              volume: Mapping[str, Any], pod_dir: PodLayout, node_name: str,
              tokens: ServiceAccountTokens | None = None) -> MountedVolume:
    """SetUpAt for one inline CSI volume (also used for republish); raises VolumeSetupError."""
    csi = volume.get("csi") or {}
    driver = str(csi.get("driver", ""))
    socket = registry.socket_for(driver)
    if socket is None:
        raise VolumeSetupError(not_registered_text(driver))
    csi_driver = get_csi_driver(store, driver)
    check_lifecycle_mode(driver, csi_driver)
    target = pod_dir.csi_target_path(volume["name"])
    target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    request = build_publish_request(store, pod, volume, target, csi_driver, tokens)
    vol_data = {"specVolID": volume["name"], "volumeHandle": request.volume_id,
                "driverName": driver, "nodeName": node_name, "volumeLifecycleMode": "Ephemeral"}
    (target.parent / VOL_DATA_FILE).write_text(json.dumps(vol_data))
    try:
        csi_client.node_publish(socket, request)
    except CSICallError as error:
        if error.code not in NON_FINAL_CODES:
            remove_mount_dir(target)
        raise VolumeSetupError(str(error)) from None
    return MountedVolume(volume["name"], target, driver, request.volume_id)


def teardown_csi(registry: PluginRegistry, mounted: MountedVolume) -> None:
    """TearDownAt: NodeUnpublishVolume, then remove the dirs; unmounts itself as a last resort
    when the driver is gone, so that stopping the runtime never leaves a mount behind."""
    target = mounted.host_path
    socket = registry.socket_for(mounted.csi_driver or "")
    if socket is not None and mounted.volume_id:
        try:
            csi_client.node_unpublish(socket, mounted.volume_id, str(target))
        except CSICallError as error:
            log.warning("%sUnmounter.TearDownAt failed: %s", CSI_LOG_PREFIX, error)
    else:
        log.warning("%sUnmounter.TearDownAt failed to get CSI client: driver name %s not found "
                    "in the list of registered CSI drivers", CSI_LOG_PREFIX, mounted.csi_driver)
    if target.is_mount():
        unmount(target)
    if target.exists() and not target.is_mount():
        shutil.rmtree(target, ignore_errors=True)
    remove_mount_dir(target)


def unmount(path: Path) -> None:
    result = subprocess.run(["umount", str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log.warning("umount %s failed: %s", path, result.stderr.strip())


def setup_simple(store: Any, pod: Mapping[str, Any], volume: Mapping[str, Any],
                 pod_dir: PodLayout) -> MountedVolume | None:
    """emptyDir, hostPath, secret and configMap volumes; None for an unsupported kind."""
    name = volume["name"]
    namespace = (pod.get("metadata") or {}).get("namespace", "default")
    if "hostPath" in volume:
        path = Path(volume["hostPath"].get("path", "/"))
        if volume["hostPath"].get("type") in ("DirectoryOrCreate",):
            path.mkdir(parents=True, exist_ok=True)
        return MountedVolume(name, path)
    if "emptyDir" in volume:
        directory = pod_dir.empty_dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o777)
        return MountedVolume(name, directory)
    for kind, api_kind, ref_key, plugin in (
            ("secret", "Secret", "secretName", "kubernetes.io~secret"),
            ("configMap", "ConfigMap", "name", "kubernetes.io~configmap")):
        if kind not in volume:
            continue
        source = volume[kind]
        directory = pod_dir.volume_dir(plugin, name)
        try:
            obj = store.get("v1", api_kind, namespace, source.get(ref_key, ""))
        except NotFound as error:
            if source.get("optional"):
                obj = {}
            else:
                raise VolumeSetupError(str(error)) from None
        files = decoded_secret_data(obj) if kind == "secret" else dict(obj.get("data") or {})
        directory.mkdir(parents=True, exist_ok=True)
        mode = int(source.get("defaultMode", 0o644))
        for key, value in files.items():
            path = directory / key
            path.write_text(value)
            path.chmod(mode)
        return MountedVolume(name, directory)
    log.warning("volume %r of pod %s: this volume type is not supported locally; skipped",
                name, (pod.get("metadata") or {}).get("name"))
    return None
