"""Publishing and unpublishing one volume: the decisions behind NodePublish/NodeUnpublish.

Upstream counterpart: ``NodePublishVolume`` / ``NodeUnpublishVolume`` in ``nodeserver.go``
and ``ensureMountPoint`` in ``utils.go`` (reference notes §2.2, §2.3). Plain Python over
plain values, so the CSI servicer in :mod:`kvcsi.driver.node` only translates.

Publish: validate; ensure the target directory and detect an existing mount; an
already-mounted target with rotation off is an idempotent success with no provider call;
otherwise read the SecretProviderClass; for a republish with rotation on, ask the rotation
gate (:mod:`kvcsi.driver.rotation`: per-volume last fetch, backoff, on-demand refresh); build
the attributes, require readOnly, mount (first time only), fetch through the coalescing
fetcher (:mod:`kvcsi.driver.rotation_fetch`: one provider call per distinct request), write
the files atomically, record the pod status (only when it changed) and sync the
``secretObjects`` Secrets (:mod:`kvcsi.driver.secret_sync`). Warnings the provider sent with
the Mount call become ``ProviderWarning`` events on the pod, whether the mount succeeded or
not. A failed first publish unmounts
what it mounted; a failed republish keeps the content, records ``MountRotationFailed`` on the
pod, backs off, and is masked from kubelet (which would otherwise delete the mount
directory, kubernetes/kubernetes#121271).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from kvcsi.driver import events as ev
from kvcsi.driver import spc as spc_access
from kvcsi.driver.atomic_writer import FileProjection, write_payload
from kvcsi.driver.cluster_access import DriverClusterStore, NotFound
from kvcsi.driver.coalescing import Outcome
from kvcsi.driver.errors import (
    DriverError,
    InvalidRequest,
    MountFailed,
    RecordStatusFailed,
    SecretProviderClassInvalid,
    TargetPathError,
)
from kvcsi.driver.metrics import DriverMetrics
from kvcsi.driver.mounter import Mounter
from kvcsi.driver.pod_status import build_pod_status, create_or_update_pod_status
from kvcsi.driver.provider_client import MountResult, ProviderClients, provider_warnings
from kvcsi.driver.rotation import BackoffPolicy, GateDecision, RotationGate
from kvcsi.driver.rotation_fetch import CoalescedFetcher
from kvcsi.driver.rotation_refresh import refresh_token
from kvcsi.driver.secret_sync import SecretSyncer
from kvcsi.driver.secret_sync_data import secret_objects_of

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
    rotation_backoff: BackoffPolicy = field(default_factory=BackoffPolicy)


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
        self.gate = RotationGate(config.rotation_poll_interval, config.rotation_backoff)
        self.fetcher = CoalescedFetcher(
            providers, config.rotation_poll_interval, config.rotation_backoff
        )
        self.events = ev.EventRecorder(store, config.node_id)
        self.syncer = SecretSyncer(store, self.events, self.metrics)
        self._written_status: dict[str, dict] = {}  # target -> last pod status written
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
            if outcome is PublishOutcome.REFRESHED:
                self.metrics.rotation_duration(time.monotonic() - state.started)
            return outcome

    def _publish_failed(
        self, request: PublishRequest, state: _PublishState, error: DriverError
    ) -> PublishOutcome:
        self.metrics.publish_error(state.provider, error.error_type, rotated=state.is_remount)
        if state.is_remount:
            delay = self.gate.failed(request.target_path, str(error), state.refresh_token)
            log.error(
                "republish of %s failed; keeping the current contents, next attempt in %.0fs: %s",
                request.target_path,
                delay,
                error,
            )
            pod = spc_access.PodRef.from_volume_context(request.volume_context)
            self.events.record(
                ev.pod_reference(pod.namespace, pod.name, pod.uid),
                ev.WARNING,
                ev.MOUNT_ROTATION_FAILED,
                f"failed to rotate objects for pod {pod.namespace}/{pod.name}, err: {error}; "
                f"the mounted content is kept; next attempt in {delay:.0f}s",
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
        # label even a skipped republish with the real provider (upstream counts it as "")
        state.provider = str((spc.get("spec") or {}).get("provider") or state.provider)
        decision = GateDecision.FETCH
        if mounted:
            # Upstream gates on the directory mtime, which stops gating once content is
            # stable (every republish calls the provider) and never backs off; here the gate
            # keeps each volume's last fetch, failures and refresh token. Only a mounted
            # volume is ever skipped.
            state.pod = self._get_pod(pod)
            state.refresh_token = refresh_token(state.pod, spc)
            decision = self.gate.decide(target, state.refresh_token)
            if decision in (GateDecision.WAIT_INTERVAL, GateDecision.BACKING_OFF):
                log.debug("skipping republish of %s: %s", target, decision.value)
                return PublishOutcome.SKIPPED
        state.started = time.monotonic()
        state.provider = spc_access.provider_of(spc)
        parameters = spc_access.parameters_of(spc)
        attributes = spc_access.build_attributes(parameters, context, request.secrets)

        if not request.readonly:
            raise InvalidRequest("Readonly is not true in request")

        if not mounted:
            self.mounter.mount(target)
            state.mounted_here = True

        try:
            outcome = self.fetcher.fetch(
                state.provider,
                attributes,
                request.secrets,
                target,
                timeout,
                use_cache=mounted and decision is not GateDecision.FORCED,
            )
            self._record_provider_warnings(pod, spc_name, state.provider, outcome)
            if outcome.error is not None:
                raise outcome.error
            assert outcome.result is not None
            changed = self._write_content(target, outcome.result)
        except DriverError as cause:
            raise MountFailed(pod.namespace, pod.name, cause) from cause

        object_versions = outcome.result.object_versions
        record = build_pod_status(pod, spc_name, target, self.config.node_id, object_versions)
        if self._written_status.get(target) != record:  # no write when nothing changed
            try:
                create_or_update_pod_status(self.store, record)
            except Exception as cause:
                raise RecordStatusFailed(pod.namespace, pod.name, cause) from cause
            self._written_status[target] = record
        self.gate.succeeded(target, outcome.finished_at, state.refresh_token)
        if state.is_remount and changed:
            self.events.record(
                ev.pod_reference(pod.namespace, pod.name, pod.uid),
                ev.NORMAL,
                ev.MOUNT_ROTATION_COMPLETE,
                f"successfully rotated mounted contents for spc {pod.namespace}/{spc_name}",
            )
        if not state.is_remount or changed or decision is GateDecision.FORCED:
            self._sync_secrets(pod, state, spc, target)
        log.info("node publish volume complete for %s (pod %s/%s)", target, pod.namespace, pod.name)
        return PublishOutcome.REFRESHED if state.is_remount else PublishOutcome.MOUNTED

    def _record_provider_warnings(
        self, pod: spc_access.PodRef, spc_name: str, provider: str, outcome: Outcome[MountResult]
    ) -> None:
        """One ``ProviderWarning`` event per distinct warning of the Mount call."""
        if outcome.result is not None:
            warnings = outcome.result.warnings
        else:
            warnings = provider_warnings(outcome.error)
        for warning in warnings:
            self.events.record(
                ev.pod_reference(pod.namespace, pod.name, pod.uid),
                ev.WARNING,
                ev.PROVIDER_WARNING,
                ev.provider_warning_message(provider, pod.namespace, spc_name, warning),
                component=ev.DRIVER_COMPONENT,
            )

    def _write_content(self, target: str, result: MountResult) -> bool:
        """Write the provider's files; True when the visible content changed."""
        if not result.files:
            log.debug("empty files in mount response; the provider may write its own files")
            return False
        payload = {f.path: FileProjection(data=f.contents, mode=f.mode) for f in result.files}
        return write_payload(target, payload)

    def _get_pod(self, pod: spc_access.PodRef) -> dict[str, Any] | None:
        try:
            return self.store.get("v1", "Pod", pod.namespace, pod.name)
        except NotFound:
            return None
        except Exception as error:  # noqa: BLE001 - the pod is optional context here
            log.debug("cannot read pod %s/%s: %s", pod.namespace, pod.name, error)
            return None

    def _sync_secrets(
        self, pod: spc_access.PodRef, state: _PublishState, spc: dict, target: str
    ) -> None:
        """Sync ``secretObjects``; never fails the publish (upstream runs it apart)."""
        if not secret_objects_of(spc):
            return
        pod_obj = state.pod or self._get_pod(pod) or {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": pod.name, "namespace": pod.namespace, "uid": pod.uid},
        }
        try:
            self.syncer.sync(
                pod_obj, spc, target, provider=state.provider, rotation=state.is_remount
            )
        except Exception:  # noqa: BLE001 - a sync bug must not fail the mount
            log.exception("secret sync for %s failed", target)

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
            self.gate.forget(target_path)
            self._written_status.pop(target_path, None)
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
    refresh_token: str = ""
    pod: dict[str, Any] | None = None
    started: float = 0.0


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

