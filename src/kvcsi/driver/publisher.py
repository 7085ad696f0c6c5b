"""Publishing and unpublishing one volume: the decisions behind NodePublish/NodeUnpublish.

Upstream counterpart: ``NodePublishVolume`` / ``NodeUnpublishVolume`` in ``nodeserver.go``
and ``ensureMountPoint`` in ``utils.go`` (reference notes §2.2, §2.3). Plain Python over
plain values, so the CSI servicer in :mod:`kvcsi.driver.node` only translates.

Publish: validate; rotation gate; ensure the target directory and detect an existing mount;
an already-mounted target with rotation off is an idempotent success with no provider call;
otherwise read the SecretProviderClass, build the attributes, require readOnly, mount (first
time only), call the provider, write its files atomically and record the pod status. A failed
first publish unmounts what it mounted; a failed republish is logged and masked (kubelet
would otherwise delete the mount directory, kubernetes/kubernetes#121271).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from kvcsi.driver import spc as spc_access
from kvcsi.driver.atomic_writer import FileProjection, write_payload
from kvcsi.driver.cluster_access import DriverClusterStore
from kvcsi.driver.errors import (
    DriverError,
    InvalidRequest,
    MountFailed,
    ProviderNotFound,
    RecordStatusFailed,
    SecretProviderClassInvalid,
    TargetPathError,
)
from kvcsi.driver.metrics import DriverMetrics
from kvcsi.driver.mounter import Mounter
from kvcsi.driver.pod_status import build_pod_status, create_or_update_pod_status
from kvcsi.driver.provider_client import ProviderClients

# JSON of Go's os.FileMode(0644): the decimal string "420" (a deprecated field providers get).
PERMISSION = json.dumps(0o644)
MOCK_PROVIDER = "mock_provider"
TARGET_DIR_MODE = 0o750

log = logging.getLogger(__name__)


class PublishOutcome(Enum):
    MOUNTED = "mounted"  # first publish: mounted and written
    REFRESHED = "refreshed"  # republish with rotation: provider called, files updated
    ALREADY_MOUNTED = "already mounted"  # republish, rotation off: nothing to do
    SKIPPED = "skipped"  # republish inside the rotation poll interval
    MASKED_ERROR = "masked error"  # republish failed; reported as success, mount kept


@dataclass(frozen=True)
class PublishRequest:
    """The fields of a CSI NodePublishVolumeRequest the driver uses."""

    volume_id: str
    target_path: str
    volume_context: Mapping[str, str]
    secrets: Mapping[str, str] = field(default_factory=dict)
    readonly: bool = False
    has_volume_capability: bool = True


@dataclass(frozen=True)
class PublisherConfig:
    node_id: str
    rotation_enabled: bool = False
    rotation_poll_interval: float = 120.0


class VolumePublisher:
    """Publishes volumes for one node; serialises work per target path."""

    def __init__(
        self,
        config: PublisherConfig,
        store: DriverClusterStore,
        providers: ProviderClients,
        mounter: Mounter,
        metrics: DriverMetrics | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.providers = providers
        self.mounter = mounter
        self.metrics = metrics or DriverMetrics()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock_for(self, target_path: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(os.path.abspath(target_path), threading.Lock())

    # -- publish -----------------------------------------------------------------------

    def publish(self, request: PublishRequest, timeout: float | None = None) -> PublishOutcome:
        with self._lock_for(request.target_path):
            provider = request.volume_context.get(spc_access.PROVIDER_NAME_KEY, "")
            state = _PublishState(provider=provider)
            try:
                validate_publish_request(request)
                outcome = self._publish(request, timeout, state)
            except DriverError as error:
                return self._publish_failed(request, state, error)
            except OSError as error:  # an unexpected filesystem failure: still clean up
                return self._publish_failed(request, state, DriverError(str(error)))
            self.metrics.publish_ok(state.provider, rotated=outcome is PublishOutcome.REFRESHED)
            return outcome

    def _publish_failed(
        self, request: PublishRequest, state: _PublishState, error: DriverError
    ) -> PublishOutcome:
        self.metrics.publish_error(state.provider, error.error_type, rotated=state.is_remount)
        if state.is_remount:
            log.error(
                "republish of %s failed; keeping the current contents: %s",
                request.target_path,
                error,
            )
            return PublishOutcome.MASKED_ERROR
        if state.mounted_here:
            log.info("unmounting %s as node publish volume failed", request.target_path)
            try:
                self.mounter.unmount(request.target_path)
            except DriverError as unmount_error:
                log.error("failed to unmount %s: %s", request.target_path, unmount_error)
        raise error

    def _publish(
        self, request: PublishRequest, timeout: float | None, state: _PublishState
    ) -> PublishOutcome:
        target = request.target_path
        context = request.volume_context
        pod = spc_access.PodRef.from_volume_context(context)

        mounted = self._ensure_mount_point(target)
        state.is_remount = mounted
        # Upstream gates on the directory mtime before checking the mount, so a retry of a
        # failed first publish inside the interval could "succeed" with nothing mounted;
        # here only a mounted volume can be skipped.
        if mounted and self.config.rotation_enabled and self._inside_rotation_interval(target):
            log.debug("skipping republish of %s: inside the rotation poll interval", target)
            return PublishOutcome.SKIPPED
        if mounted and not self.config.rotation_enabled:
            log.info(
                "target path %s is already mounted (pod %s/%s)", target, pod.namespace, pod.name
            )
            return PublishOutcome.ALREADY_MOUNTED

        if state.provider == MOCK_PROVIDER:  # csi-sanity's path: mount and return
            if not mounted:
                self.mounter.mount(target)
            return PublishOutcome.MOUNTED

        spc_name = context.get(spc_access.SECRET_PROVIDER_CLASS_KEY, "")
        if not spc_name:
            raise SecretProviderClassInvalid("secretProviderClass is not set")
        spc = spc_access.get_secret_provider_class(self.store, pod.namespace, spc_name)
        state.provider = spc_access.provider_of(spc)
        parameters = spc_access.parameters_of(spc)
        attributes = spc_access.build_attributes(parameters, context, request.secrets)

        if not request.readonly:
            raise InvalidRequest("Readonly is not true in request")

        if not mounted:
            self.mounter.mount(target)
            state.mounted_here = True

        try:
            object_versions = self._mount_content(state.provider, request, attributes, timeout)
        except DriverError as cause:
            raise MountFailed(pod.namespace, pod.name, cause) from cause

        record = build_pod_status(pod, spc_name, target, self.config.node_id, object_versions)
        try:
            create_or_update_pod_status(self.store, record)
        except Exception as cause:
            raise RecordStatusFailed(pod.namespace, pod.name, cause) from cause
        log.info("node publish volume complete for %s (pod %s/%s)", target, pod.namespace, pod.name)
        return PublishOutcome.REFRESHED if state.is_remount else PublishOutcome.MOUNTED

    def _mount_content(
        self,
        provider: str,
        request: PublishRequest,
        attributes: Mapping[str, str],
        timeout: float | None,
    ) -> dict[str, str]:
        try:
            self.providers.socket_path(provider)
        except ProviderNotFound as error:
            raise ProviderNotFound(f'error connecting to provider "{provider}": {error}') from error
        result = self.providers.mount(
            provider,
            attributes=json.dumps(dict(attributes), sort_keys=True, separators=(",", ":")),
            secrets=_secrets_json(request.secrets),
            target_path=request.target_path,
            permission=PERMISSION,
            timeout=timeout,
        )
        if result.files:
            payload = {f.path: FileProjection(data=f.contents, mode=f.mode) for f in result.files}
            write_payload(request.target_path, payload)
        else:
            log.debug("empty files in mount response; the provider may write its own files")
        return result.object_versions

    def _inside_rotation_interval(self, target: str) -> bool:
        try:
            modified = os.stat(target).st_mtime
        except OSError:
            return False
        return time.time() < modified + self.config.rotation_poll_interval

    def _ensure_mount_point(self, target: str) -> bool:
        """Create the target if missing; True when a healthy volume is already mounted."""
        if not os.path.lexists(target):
            try:
                os.makedirs(target, mode=TARGET_DIR_MODE, exist_ok=True)
            except OSError as error:
                raise TargetPathError(
                    f"failed to create target path {target}, err: {error.strerror or error}"
                ) from error
            return False
        try:
            mounted = self.mounter.is_mount_point(target)
        except OSError as error:
            raise TargetPathError(
                f"failed to check if target path {target} is mount point, err: {error}"
            ) from error
        if not mounted:
            return False
        try:
            os.listdir(target)
        except OSError:
            log.warning("mount at %s is unreadable; unmounting it to mount afresh", target)
            self.mounter.unmount(target)
            return False
        return True

    # -- unpublish ---------------------------------------------------------------------

    def unpublish(self, volume_id: str, target_path: str) -> None:
        """Remove the contents, unmount and remove the target; a missing target is fine."""
        if not volume_id:
            raise InvalidRequest("Volume ID missing in request")
        if not target_path:
            raise InvalidRequest("Target path missing in request")
        with self._lock_for(target_path):
            try:
                self._unpublish(target_path)
            except DriverError:
                self.metrics.unpublish_error()
                raise
            self.metrics.unpublish_ok()

    def _unpublish(self, target: str) -> None:
        try:
            entries = os.listdir(target)
        except FileNotFoundError:
            log.info("target path %s does not exist; nothing to unpublish", target)
            return
        except OSError as error:
            raise TargetPathError(str(error.strerror or error)) from error
        for name in entries:  # includes ..data and the timestamped dirs
            entry = os.path.join(target, name)
            try:
                if os.path.isdir(entry) and not os.path.islink(entry):
                    shutil.rmtree(entry)
                else:
                    os.remove(entry)
            except OSError as error:
                log.error("failed to delete %s from target path %s: %s", name, target, error)
        try:
            if self.mounter.is_mount_point(target):
                self.mounter.unmount(target)
            os.rmdir(target)
        except FileNotFoundError:
            return
        except OSError as error:
            raise TargetPathError(f"remove {target}: {error.strerror or error}") from error
        log.info("node unpublish volume complete for %s", target)


@dataclass
class _PublishState:
    provider: str
    is_remount: bool = False
    mounted_here: bool = False


def validate_publish_request(request: PublishRequest) -> None:
    """The upstream argument checks, in upstream order (all InvalidArgument)."""
    if not request.has_volume_capability:
        raise InvalidRequest("Volume capability missing in request")
    if not request.volume_id:
        raise InvalidRequest("Volume ID missing in request")
    if not request.target_path:
        raise InvalidRequest("Target path missing in request")
    if not request.volume_context:
        raise InvalidRequest("Volume attributes missing in request")


def _secrets_json(secrets: Mapping[str, str]) -> str:
    """Go's ``json.Marshal`` of the secrets map: ``null`` when there are none."""
    if not secrets:
        return "null"
    return json.dumps(dict(secrets), sort_keys=True, separators=(",", ":"))
