"""The periodic half of Secret sync: recreate missing Secrets, remove unused ones.

Upstream counterpart: the SecretProviderClassPodStatus controller's requeue and the
garbage collector acting on owner references (reference notes §4.2). Owner references alone
leave a Secret behind when its owner is a ReplicaSet scaled to zero (#1770) and make it
vanish while another pod still mounts it when one owner goes (#2051, #899). Each pass here:

1. for every SecretProviderClassPodStatus of this node whose pod is running, re-syncs
   Secrets that are missing (from the mounted files; the target path must be the pod's own
   volume — the CVE-2020-8568 guard);
2. deletes a Secret labelled ``secrets-store.csi.k8s.io/managed=true`` that no live pod's
   SecretProviderClass lists any more (any node), once two passes in a row saw it unused, so
   a pod being published right now is not raced.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

from kvcsi.cluster.errors import ClusterError, NotFound
from kvcsi.driver.errors import DriverError, SecretProviderClassNotFound
from kvcsi.driver.pod_status import NODE_NAME_LABEL, SPCPS_API_VERSION, SPCPS_KIND
from kvcsi.driver.secret_sync import MANAGED_LABEL, SecretSyncer
from kvcsi.driver.secret_sync_data import secret_objects_of
from kvcsi.driver.spc import get_secret_provider_class

DEFAULT_PERIOD_SECONDS = 10.0
_TARGET = re.compile(
    r"[\\/|]+pods[\\/|]+(?P<uid>[^\\/|]+)[\\/|]+volumes[\\/|]+kubernetes\.io~csi[\\/|]+"
    r"(?P<volume>[^\\/|]+)[\\/|]+mount$"
)

log = logging.getLogger(__name__)


def pod_is_live(pod: Mapping[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def target_belongs_to_pod(target: str, pod: Mapping[str, Any], spc_name: str, driver: str) -> bool:
    """The recorded target path is ``.../pods/<pod uid>/volumes/kubernetes.io~csi/<vol>/mount``
    where ``<vol>`` is the pod's volume of this driver using this SecretProviderClass."""
    match = _TARGET.search(target)
    if match is None or match.group("uid") != (pod.get("metadata") or {}).get("uid"):
        return False
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        csi = volume.get("csi") or {}
        if (volume.get("name") == match.group("volume") and csi.get("driver") == driver
                and (csi.get("volumeAttributes") or {}).get("secretProviderClass") == spc_name):
            return True
    return False


class SecretSyncReconciler:
    """Runs :meth:`reconcile_once` every ``period`` seconds in a daemon thread."""

    def __init__(
        self,
        store: Any,
        syncer: SecretSyncer,
        node_id: str,
        driver_name: str = "secrets-store.csi.k8s.io",
        period: float = DEFAULT_PERIOD_SECONDS,
    ) -> None:
        self.store = store
        self.syncer = syncer
        self.node_id = node_id
        self.driver_name = driver_name
        self.period = period
        self._unused_last_pass: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="secret-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.reconcile_once()
            except Exception:  # noqa: BLE001 - one bad pass must not end the loop
                log.exception("secret sync reconcile pass failed")

    def reconcile_once(self) -> tuple[list[str], list[str]]:
        """One pass; returns (recreated, deleted) as ``namespace/name``."""
        return self._recreate_missing(), self._remove_unused()

    # -- 1. missing Secrets of this node's volumes ---------------------------------------
    def _recreate_missing(self) -> list[str]:
        recreated: list[str] = []
        statuses = self.store.list(SPCPS_API_VERSION, SPCPS_KIND, None,
                                   {NODE_NAME_LABEL: self.node_id})
        classes: dict[tuple[str, str], dict] = {}  # one read per class per pass
        for record in statuses:  # one failing record never aborts the pass (#733)
            try:
                recreated.extend(self._recreate_for(record, classes))
            except (ClusterError, DriverError) as error:
                log.debug("skipping %s: %s", record["metadata"].get("name"), error)
        return recreated

    def _recreate_for(
        self, record: Mapping[str, Any], classes: dict[tuple[str, str], dict]
    ) -> list[str]:
        status = record.get("status") or {}
        namespace = record["metadata"].get("namespace", "")
        spc_name = status.get("secretProviderClassName", "")
        if (namespace, spc_name) not in classes:
            classes[(namespace, spc_name)] = get_secret_provider_class(
                self.store, namespace, spc_name)
        spc = classes[(namespace, spc_name)]
        if not secret_objects_of(spc):
            return []
        pod = self.store.get("v1", "Pod", namespace, status.get("podName", ""))
        if not pod_is_live(pod):
            return []
        missing = []
        for spec in secret_objects_of(spc):
            if not spec.secret_name:
                continue
            try:
                self.store.get("v1", "Secret", namespace, spec.secret_name)
            except NotFound:
                missing.append(spec.secret_name)
        if not missing:
            return []
        target = str(status.get("targetPath", ""))
        if not target_belongs_to_pod(target, pod, spc_name, self.driver_name):
            log.warning("pod status %s has a target path that is not the pod's volume; ignored",
                        record["metadata"].get("name"))
            return []
        report = self.syncer.sync(pod, spc, target)
        return [f"{namespace}/{name}" for name in report.created]

    # -- 2. managed Secrets nobody mounts any more ---------------------------------------
    def _remove_unused(self) -> list[str]:
        managed = self.store.list("v1", "Secret", None, {MANAGED_LABEL: "true"})
        unused = {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in managed}
        unused -= self._secrets_in_use({namespace for namespace, _ in unused})
        deleted = []
        for namespace, name in sorted(unused & self._unused_last_pass):
            try:
                self.store.delete("v1", "Secret", namespace, name)
            except NotFound:
                continue
            log.info("deleted secret %s/%s: no pod mounts a SecretProviderClass syncing it",
                     namespace, name)
            deleted.append(f"{namespace}/{name}")
        self._unused_last_pass = unused - set(
            tuple(item.split("/", 1)) for item in deleted  # type: ignore[misc]
        )
        return deleted

    def _secrets_in_use(self, namespaces: set[str]) -> set[tuple[str, str]]:
        in_use: set[tuple[str, str]] = set()
        for namespace in namespaces:
            for record in self.store.list(SPCPS_API_VERSION, SPCPS_KIND, namespace):
                status = record.get("status") or {}
                try:
                    pod = self.store.get("v1", "Pod", namespace, status.get("podName", ""))
                    if not pod_is_live(pod):
                        continue
                    spc = get_secret_provider_class(self.store, namespace,
                                                    status.get("secretProviderClassName", ""))
                except (NotFound, SecretProviderClassNotFound):
                    continue  # a gone pod or class keeps nothing in use; other errors abort
                in_use.update((namespace, spec.secret_name) for spec in secret_objects_of(spc))
        return in_use
