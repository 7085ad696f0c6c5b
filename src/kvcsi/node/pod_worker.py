"""One pod's life on a node: volumes, containers, status, republish, teardown.

Counterpart: kubelet's pod worker (``pkg/kubelet/pod_workers.go``) with the volume manager's
mount/unmount of that pod. Runs on its own thread with its own store connection. Volume
set-up failures are retried with exponential backoff and reported as ``FailedMount`` events
while the pod stays ``Pending`` with its containers waiting in ``ContainerCreating``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kvcsi.cluster.errors import ClusterError, NotFound
from kvcsi.cluster.objects import now_rfc3339
from kvcsi.node import containers as runtime
from kvcsi.node import events, volumes
from kvcsi.node.layout import NodeLayout
from kvcsi.node.pod_status import ContainerRecord, pod_status, remember_transitions
from kvcsi.node.registration import PluginRegistry
from kvcsi.node.service_account_tokens import ServiceAccountTokens
from kvcsi.node.settings import KubeletSettings
from kvcsi.node.supervisor import terminate_process_group

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeContext:
    """What a pod worker needs to know about its node."""

    cluster: str
    store_path: Path
    node_name: str
    layout: NodeLayout
    registry: PluginRegistry
    connect: Callable[[Path], Any]
    service_account_tokens: ServiceAccountTokens | None = None


class PodWorker(threading.Thread):
    """Runs one pod until :meth:`stop`; then stops containers and unpublishes volumes."""

    def __init__(self, node: NodeContext, pod: dict[str, Any], settings: KubeletSettings) -> None:
        metadata = pod["metadata"]
        super().__init__(name=f"pod-{metadata.get('namespace')}/{metadata['name']}", daemon=True)
        self.node = node
        self.pod = pod
        self.uid: str = metadata["uid"]
        self.settings = settings
        self.pod_dir = node.layout.pod(self.uid)
        self._stop_event = threading.Event()
        self._delete_object = False
        self._mounted: dict[str, volumes.MountedVolume] = {}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._next_start: dict[str, float] = {}
        self._records = [ContainerRecord(c["name"], str(c.get("image", "")))
                         for c in pod["spec"].get("containers") or []]
        self._since: dict[str, str] = {}
        self._last_status: dict[str, Any] | None = None
        self._start_time = now_rfc3339()
        self._volumes_ready = False
        self._volumes_released = False

    # -- control -----------------------------------------------------------------------
    def stop(self, delete_object: bool = False) -> None:
        """Ask the worker to tear the pod down (and delete a terminating pod object)."""
        self._delete_object = self._delete_object or delete_object
        self._stop_event.set()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def run(self) -> None:
        store = self.node.connect(self.node.store_path)
        try:
            self._run(store)
        except Exception:  # noqa: BLE001 - a broken pod must not take the node down
            log.exception("pod worker %s failed", self.name)
        finally:
            self._teardown(store)
            close = getattr(store, "close", None)
            if close:
                close()

    # -- phases ------------------------------------------------------------------------
    def _run(self, store: Any) -> None:
        self.pod_dir.root.mkdir(parents=True, exist_ok=True)
        for record in self._records:
            runtime.kill_stale(self.pod_dir.container_pid_file(record.name))
        self._write_status(store)
        if not self._mount_all(store):
            return
        self._volumes_ready = True
        next_republish = time.monotonic() + self.settings.sync_period
        while not self._stop_event.is_set():
            self._sync_containers(store)
            if not self._write_status(store):
                return
            if self._phase() in ("Succeeded", "Failed"):
                self._release_volumes()
            elif time.monotonic() >= next_republish:
                self._republish(store)
                next_republish = time.monotonic() + self.settings.sync_period
            self._stop_event.wait(self.settings.poll_interval)

    def _mount_all(self, store: Any) -> bool:
        failures = 0
        while not self._stop_event.is_set():
            failed = False
            for volume in self.pod["spec"].get("volumes") or []:
                if volume["name"] in self._mounted:
                    continue
                try:
                    mounted = self._setup(store, volume)
                except volumes.VolumeSetupError as error:
                    failed = True
                    message = volumes.setup_failed_message(volume["name"], error)
                    log.warning("pod %s: %s", self.name, message)
                    events.record(store, self.pod, "Warning", events.FAILED_MOUNT, message,
                                  host=self.node.node_name)
                    continue
                if mounted is not None:
                    self._mounted[volume["name"]] = mounted
            if not failed:
                return True
            failures += 1
            self._stop_event.wait(self.settings.mount_backoff.delay(failures))
        return False

    def _setup(self, store: Any, volume: dict[str, Any]) -> volumes.MountedVolume | None:
        if "csi" in volume:
            return volumes.setup_csi(store, self.node.registry, self.pod, volume, self.pod_dir,
                                     self.node.node_name, self.node.service_account_tokens)
        return volumes.setup_simple(store, self.pod, volume, self.pod_dir)

    def _republish(self, store: Any) -> None:
        """kubelet calls NodePublishVolume again when the CSIDriver requires republish."""
        for volume in self.pod["spec"].get("volumes") or []:
            if "csi" not in volume or volume["name"] not in self._mounted:
                continue
            csi_driver = volumes.get_csi_driver(store, volume["csi"].get("driver", ""))
            if not (csi_driver or {}).get("spec", {}).get("requiresRepublish"):
                continue
            try:
                self._setup(store, volume)
            except volumes.VolumeSetupError as error:
                events.record(store, self.pod, "Warning", events.FAILED_MOUNT,
                              volumes.setup_failed_message(volume["name"], error),
                              host=self.node.node_name)

    # -- containers --------------------------------------------------------------------
    def _volume_paths(self) -> dict[str, Path]:
        return {name: mounted.host_path for name, mounted in self._mounted.items()}

    def _sync_containers(self, store: Any) -> None:
        policy = self.pod["spec"].get("restartPolicy", "Always")
        specs = {c["name"]: c for c in self.pod["spec"].get("containers") or []}
        for record in self._records:
            process = self._processes.get(record.name)
            if process is not None:
                code = process.poll()
                if code is None:
                    continue
                del self._processes[record.name]
                self.pod_dir.container_pid_file(record.name).unlink(missing_ok=True)
                record.set_terminated(code)
                if policy == "Always" or (policy == "OnFailure" and code != 0):
                    record.restart_count += 1
                    delay = self.settings.container_backoff.delay(record.restart_count)
                    self._next_start[record.name] = time.monotonic() + delay
                    record.last_state = record.state
                    record.set_waiting(
                        "CrashLoopBackOff",
                        f"back-off {delay:g}s restarting failed container={record.name} "
                        f"pod={self.pod['metadata']['name']}_"
                        f"{self.pod['metadata'].get('namespace')}({self.uid})")
                    events.record(store, events.container_ref(self.pod, record.name), "Warning",
                                  events.BACK_OFF,
                                  f"Back-off restarting failed container {record.name} in pod "
                                  f"{self.pod['metadata']['name']}_"
                                  f"{self.pod['metadata'].get('namespace')}({self.uid})",
                                  host=self.node.node_name)
                continue
            if record.terminated:
                continue
            if time.monotonic() >= self._next_start.get(record.name, 0.0):
                self._start(store, specs[record.name], record)

    def _start(self, store: Any, spec: dict[str, Any], record: ContainerRecord) -> None:
        ref = events.container_ref(self.pod, record.name)
        host = self.node.node_name
        try:
            env = runtime.container_env(store, self.pod, spec, self._volume_paths(),
                                        mapped=runtime.use_mount_namespaces())
        except runtime.ContainerConfigError as error:
            record.set_waiting("CreateContainerConfigError", str(error))
            events.record(store, ref, "Warning", events.FAILED, f"Error: {error}", host=host)
            failures = record.restart_count + 1
            self._next_start[record.name] = (time.monotonic()
                                             + self.settings.container_backoff.delay(failures))
            return
        if record.restart_count == 0:
            events.record(store, ref, "Normal", events.PULLED,
                          f'Container image "{record.image}" already present on machine',
                          host=host)
        try:
            process = runtime.start_container(self.pod_dir, spec, env, self._volume_paths())
        except OSError as error:
            record.set_waiting("RunContainerError", str(error))
            events.record(store, ref, "Warning", events.FAILED, f"Error: {error}", host=host)
            self._next_start[record.name] = time.monotonic() + self.settings.container_backoff.cap
            return
        self._processes[record.name] = process
        record.set_running(f"kvcsi://{self.uid}/{record.name}/{process.pid}")
        events.record(store, ref, "Normal", events.CREATED, f"Created container: {record.name}",
                      host=host)
        events.record(store, ref, "Normal", events.STARTED, f"Started container {record.name}",
                      host=host)

    def _phase(self) -> str:
        return str((self._last_status or {}).get("phase", "Pending"))

    # -- status ------------------------------------------------------------------------
    def _write_status(self, store: Any) -> bool:
        """Write the pod status if it changed; False when the pod object is gone."""
        status = pod_status(self.pod, self._records, self._volumes_ready, self._start_time,
                            self._since)
        if status == self._last_status:
            return True
        metadata = self.pod["metadata"]
        try:
            store.update_status("v1", "Pod", metadata.get("namespace"), metadata["name"], status)
        except NotFound:
            self._stop_event.set()
            return False
        except ClusterError as error:
            log.warning("status of %s not written: %s", self.name, error)
            return True
        remember_transitions(status, self._since)
        self._last_status = status
        return True

    # -- teardown ----------------------------------------------------------------------
    def _stop_containers(self, store: Any, announce: bool) -> None:
        grace = min(float(self.pod["spec"].get("terminationGracePeriodSeconds", 30)),
                    self.settings.max_grace_seconds)
        for name, process in list(self._processes.items()):
            if announce:
                events.record(store, events.container_ref(self.pod, name), "Normal",
                              events.KILLING, f"Stopping container {name}",
                              host=self.node.node_name)
            terminate_process_group(process, grace)
            self.pod_dir.container_pid_file(name).unlink(missing_ok=True)
        self._processes.clear()

    def _release_volumes(self) -> None:
        if self._volumes_released:
            return
        self._volumes_released = True
        for mounted in self._mounted.values():
            if mounted.csi_driver is not None:
                volumes.teardown_csi(self.node.registry, mounted)
        self._mounted = {k: v for k, v in self._mounted.items() if v.csi_driver is None}

    def _teardown(self, store: Any) -> None:
        self._stop_containers(store, announce=self._delete_object)
        self._release_volumes()
        self._mounted.clear()
        if self._delete_object or self._pod_gone(store):
            shutil.rmtree(self.pod_dir.root, ignore_errors=True)
        if self._delete_object:
            metadata = self.pod["metadata"]
            try:
                store.delete("v1", "Pod", metadata.get("namespace"), metadata["name"],
                             grace_period_seconds=0)
            except NotFound:
                pass
            except ClusterError as error:
                log.warning("could not finalize deletion of %s: %s", self.name, error)

    def _pod_gone(self, store: Any) -> bool:
        metadata = self.pod["metadata"]
        try:
            current = store.get("v1", "Pod", metadata.get("namespace"), metadata["name"])
        except NotFound:
            return True
        except ClusterError:
            return False
        return (current.get("metadata") or {}).get("uid") != self.uid
