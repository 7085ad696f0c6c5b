"""The :class:`~kvcsi.cluster.store.ClusterStore` over a real Kubernetes API server.

Counterpart: the controller-runtime / client-go clients the upstream driver uses, here the
official ``kubernetes`` Python client: ``CoreV1Api`` for core kinds (Pods, Secrets, Events,
...) and ``CustomObjectsApi`` for every kind under ``/apis/<group>/<version>`` (the CRDs
``secrets-store.csi.x-k8s.io/v1`` SecretProviderClass and SecretProviderClassPodStatus, and
grouped built-ins such as CSIDriver). Objects travel as plain dicts in Kubernetes JSON shape
(responses are read undecoded, so nothing is lost to the typed models).

Conventions kept: ``replace`` is a PUT carrying ``metadata.resourceVersion`` (filled from a
GET when the caller has none, i.e. an unconditional update); status writes go to the
``/status`` subresource only for kinds that have one (SecretProviderClassPodStatus has none:
its ``status`` is written with the object); patches are JSON merge patches; events are
folded into an existing one (``count`` + 1) as client-go's correlator does.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from kvcsi.cluster import events as ev
from kvcsi.cluster import kinds
from kvcsi.cluster.errors import Conflict, NoKindMatch, NotFound
from kvcsi.cluster.kinds import CRD_GROUP, KindInfo
from kvcsi.cluster.kube_config import KubeTarget, load_configuration
from kvcsi.cluster.kube_errors import api_error, unreachable
from kvcsi.cluster.objects import applied_body, with_defaults
from kvcsi.cluster.store import ApplyAction, LabelSelector

MERGE_PATCH = "application/merge-patch+json"
STATUS_RETRIES = 5
SPC_GROUP = "secrets-store.csi.x-k8s.io"

log = logging.getLogger(__name__)


def _crd_kind(version: str, kind: str, plural: str, storage: str = "v1") -> KindInfo:
    return KindInfo(
        SPC_GROUP, version, kind, plural, True, storage_version=storage,
        deprecated=version != storage,
    )


# The CRDs the driver needs are known up front (no discovery round trip for them).
KNOWN_CUSTOM_KINDS: tuple[KindInfo, ...] = (
    _crd_kind("v1", "SecretProviderClass", "secretproviderclasses"),
    _crd_kind("v1alpha1", "SecretProviderClass", "secretproviderclasses"),
    _crd_kind("v1", "SecretProviderClassPodStatus", "secretproviderclasspodstatuses"),
    _crd_kind("v1alpha1", "SecretProviderClassPodStatus", "secretproviderclasspodstatuses"),
)


def snake_case(kind: str) -> str:
    """``ServiceAccount`` -> ``service_account`` (CoreV1Api method names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def selector_text(selector: LabelSelector | None) -> str | None:
    if selector is None or isinstance(selector, str):
        return selector or None
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items())) or None


class KubeClusterStore:
    """Kubernetes objects through the API server (in-cluster config or a kubeconfig)."""

    def __init__(self, configuration: Any, description: str = "") -> None:
        from kubernetes import client

        self.configuration = configuration
        self.description = description or configuration.host
        self.api_client = client.ApiClient(configuration)
        self.core = client.CoreV1Api(self.api_client)
        self.custom = client.CustomObjectsApi(self.api_client)
        self._crds: list[dict] | None = None
        self._events: dict[tuple, dict] = {}
        self._events_lock = threading.Lock()

    @classmethod
    def from_target(cls, target: KubeTarget) -> KubeClusterStore:
        return cls(load_configuration(target), target.describe())

    # -- discovery ------------------------------------------------------------------------

    def _custom_resource_definitions(self) -> list[dict]:
        if self._crds is None:
            crd_kind = KindInfo(CRD_GROUP, "v1", "CustomResourceDefinition",
                                "customresourcedefinitions", False)
            try:
                self._crds = self._call(
                    crd_kind, "", self.custom.list_cluster_custom_object,
                    CRD_GROUP, "v1", "customresourcedefinitions",
                ).get("items", [])
            except (NoKindMatch, NotFound):
                self._crds = []
        return self._crds

    def resolve_kind(self, api_version: str, kind: str) -> KindInfo:
        for info in (*kinds.BUILTIN_KINDS, *KNOWN_CUSTOM_KINDS):
            if info.api_version == api_version and info.kind == kind:
                return info
        return kinds.resolve(api_version, kind, self._custom_resource_definitions())

    def api_resources(self) -> list[KindInfo]:
        return kinds.served_kinds(self._custom_resource_definitions())

    def find_resource(self, name: str) -> list[KindInfo]:
        return kinds.find_resource(name, self._custom_resource_definitions())

    # -- transport ------------------------------------------------------------------------

    def _call(self, info: KindInfo, name: str, method: Callable[..., Any], *args, **kwargs):
        """Run one client method undecoded; returns the JSON body as a dict."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            if getattr(method, "__self__", None) is None:  # a local sender (core writes)
                response = method(*args, **kwargs)
            else:
                response = method(*args, _preload_content=False, **kwargs)
        except ApiException as error:
            if not error.status:  # no HTTP answer (TLS failure and the like)
                raise unreachable(self.description, error) from None
            raise api_error(error.status, error.body, info, name) from None
        except HTTPError as error:
            raise unreachable(self.description, error) from None
        data = response.data
        return json.loads(data) if data else {}

    def _core(self, verb: str, info: KindInfo, namespace: str | None) -> Callable[..., Any]:
        noun = snake_case(info.kind)
        if not info.namespaced:
            return getattr(self.core, f"{verb}_{noun}")
        if namespace is None and verb == "list":
            return getattr(self.core, f"list_{noun}_for_all_namespaces")
        return getattr(self.core, f"{verb}_namespaced_{noun}")

    def _namespace(self, info: KindInfo, namespace: str | None) -> str | None:
        return (namespace or "default") if info.namespaced else None

    def _read(self, info: KindInfo, namespace: str | None, name: str) -> dict:
        ns = self._namespace(info, namespace)
        if not info.group:
            args = (name, ns) if ns else (name,)
            return self._call(info, name, self._core("read", info, ns), *args)
        if ns:
            return self._call(info, name, self.custom.get_namespaced_custom_object,
                              info.group, info.version, ns, info.plural, name)
        return self._call(info, name, self.custom.get_cluster_custom_object,
                          info.group, info.version, info.plural, name)

    def _write(self, verb: str, info: KindInfo, body: dict, subresource: str = "") -> dict:
        """``create`` (POST), ``replace`` (PUT) or ``patch`` (merge PATCH) of ``body``."""
        meta = body.get("metadata") or {}
        name = str(meta.get("name") or "")
        ns = self._namespace(info, meta.get("namespace"))
        suffix = f"_{subresource}" if subresource else ""
        extra: dict[str, Any] = {"_content_type": MERGE_PATCH} if verb == "patch" else {}
        if not info.group:
            return self._core_write(verb, info, ns, name, subresource, body)
        scope = "namespaced" if ns else "cluster"
        method = getattr(self.custom, f"{verb}_{scope}_custom_object{suffix}")
        where = (info.group, info.version, *((ns,) if ns else ()), info.plural)
        head = () if verb == "create" else (name,)
        return self._call(info, name, method, *where, *head, body, **extra)

    def _core_write(self, verb: str, info: KindInfo, ns: str | None, name: str,
                    subresource: str, body: dict) -> dict:
        """POST/PUT/PATCH of a core object through the ApiClient itself.

        ``CoreV1Api``'s typed write methods validate a dict body against the client's models
        and refuse fields newer than the client; the objects here are plain JSON, so the
        request is serialised by the same ApiClient (auth, TLS, host) without the model step.
        """
        from kubernetes.client.exceptions import ApiException

        method = {"create": "POST", "replace": "PUT", "patch": "PATCH"}[verb]
        path = "/api/v1" + (f"/namespaces/{quote(ns, safe='')}" if ns else "")
        path += f"/{info.plural}"
        if verb != "create":
            path += f"/{quote(name, safe='')}" + (f"/{subresource}" if subresource else "")
        content_type = MERGE_PATCH if verb == "patch" else "application/json"
        request = self.api_client.param_serialize(
            method=method, resource_path=path, body=body, auth_settings=["BearerToken"],
            header_params={"Accept": "application/json", "Content-Type": content_type},
        )

        def send():
            response = self.api_client.call_api(*request)
            response.read()
            if not 200 <= response.status <= 299:
                raise ApiException.from_response(http_resp=response, body=None, data=None)
            return response

        return self._call(info, name, send)

    # -- reads ----------------------------------------------------------------------------

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict:
        info = self.resolve_kind(api_version, kind)
        return self._read(info, namespace, name)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: LabelSelector | None = None,
        field_selector: str | None = None,
    ) -> list[dict]:
        info = self.resolve_kind(api_version, kind)
        items = self._list(info, namespace, selector_text(label_selector), field_selector)
        for item in items:  # list items carry no apiVersion/kind
            item.setdefault("apiVersion", info.api_version)
            item.setdefault("kind", info.kind)
        return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""),
                                            o["metadata"].get("name", "")))

    def _list(self, info: KindInfo, namespace: str | None, labels: str | None,
              fields: str | None = None) -> list[dict]:
        ns = namespace if info.namespaced else None
        selectors = {k: v for k, v in (("label_selector", labels),
                                       ("field_selector", fields)) if v}
        if not info.group:
            method = self._core("list", info, ns)
            return self._call(info, "", method, *((ns,) if ns else ()),
                              **selectors).get("items", [])
        if ns:
            return self._call(info, "", self.custom.list_namespaced_custom_object,
                              info.group, info.version, ns, info.plural,
                              **selectors).get("items", [])
        return self._call(info, "", self.custom.list_cluster_custom_object,
                          info.group, info.version, info.plural, **selectors).get("items", [])

    def watch_version(self) -> int:
        """The API server's current revision (a list's ``resourceVersion``; etcd is global)."""
        info = kinds.NAMESPACE_KIND
        listed = self._call(info, "", self.core.list_namespace, limit=1)
        return int((listed.get("metadata") or {}).get("resourceVersion") or 0)

    # -- writes ---------------------------------------------------------------------------

    def create(self, obj: dict) -> dict:
        info = self.resolve_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        body = copy.deepcopy(obj)
        if info.namespaced:
            body.setdefault("metadata", {}).setdefault("namespace", "default")
        return self._write("create", info, body)

    def replace(self, obj: dict) -> dict:
        """PUT; without ``metadata.resourceVersion`` the current one is read first."""
        info = self.resolve_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        body = copy.deepcopy(obj)
        meta = body.setdefault("metadata", {})
        if info.namespaced:
            meta.setdefault("namespace", "default")
        if not meta.get("resourceVersion"):
            current = self._read(info, meta.get("namespace"), meta.get("name", ""))
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self._write("replace", info, body)

    def apply(self, obj: dict) -> tuple[dict, ApplyAction]:
        info = self.resolve_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.get("metadata") or {}
        try:
            existing = self._read(info, meta.get("namespace"), meta.get("name", ""))
        except NotFound:
            return self.create(obj), "created"
        merged = applied_body(info, existing, obj)
        if merged == with_defaults(info, copy.deepcopy(existing)):
            return existing, "unchanged"
        return self._write("replace", info, merged), "configured"

    def update_status(
        self, api_version: str, kind: str, namespace: str | None, name: str, status: dict
    ) -> dict:
        return self._change_status(api_version, kind, namespace, name, lambda _old: status)

    def patch_status(
        self, api_version: str, kind: str, namespace: str | None, name: str, patch: dict
    ) -> dict:
        info = self.resolve_kind(api_version, kind)
        body = {"metadata": {"name": name, "namespace": self._namespace(info, namespace)},
                "status": patch}
        if info.status_subresource:
            return self._write("patch", info, body, "status")
        return self._write("patch", info, body)

    def _change_status(self, api_version: str, kind: str, namespace: str | None, name: str,
                       change: Callable[[Any], dict]) -> dict:
        """GET, set ``status``, PUT with the read resourceVersion; retried on Conflict."""
        info = self.resolve_kind(api_version, kind)
        for attempt in range(STATUS_RETRIES):
            current = self._read(info, namespace, name)
            current["status"] = change(copy.deepcopy(current.get("status")))
            try:
                subresource = "status" if info.status_subresource else ""
                return self._write("replace", info, current, subresource)
            except Conflict:
                if attempt == STATUS_RETRIES - 1:
                    raise
                log.debug("conflict writing the status of %s %s; retrying", kind, name)
        raise AssertionError("unreachable")

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        *,
        grace_period_seconds: int | None = None,
    ) -> dict:
        info = self.resolve_kind(api_version, kind)
        ns = self._namespace(info, namespace)
        options: dict[str, Any] = {}
        if grace_period_seconds is not None:
            options["grace_period_seconds"] = grace_period_seconds
        if not info.group:
            args = (name, ns) if ns else (name,)
            return self._call(info, name, self._core("delete", info, ns), *args, **options)
        if ns:
            return self._call(info, name, self.custom.delete_namespaced_custom_object,
                              info.group, info.version, ns, info.plural, name, **options)
        return self._call(info, name, self.custom.delete_cluster_custom_object,
                          info.group, info.version, info.plural, name, **options)

    # -- events ---------------------------------------------------------------------------

    def record_event(
        self,
        involved: dict,
        type_: str,
        reason: str,
        message: str,
        source_component: str,
        source_host: str | None = None,
    ) -> dict:
        """POST a new Event, or PATCH ``count``/``lastTimestamp`` of the one it repeats."""
        ref = ev.object_reference(involved)
        event = ev.new_event(ref, type_, reason, message, source_component, source_host)
        key = (json.dumps(ref, sort_keys=True), type_, reason, message,
               source_component, source_host or "")
        info = kinds.EVENT_KIND
        with self._events_lock:
            seen = self._events.get(key)
            if seen is not None:
                patch = {"metadata": seen["metadata"], "count": int(seen.get("count", 1)) + 1,
                         "lastTimestamp": event["lastTimestamp"]}
                try:
                    stored = self._write("patch", info, patch)
                except NotFound:
                    stored = self._write("create", info, event)
            else:
                stored = self._write("create", info, event)
            self._events[key] = {"metadata": {"name": stored["metadata"]["name"],
                                              "namespace": stored["metadata"]["namespace"]},
                                 "count": stored.get("count", 1)}
        return stored

    def events_for(self, involved: dict) -> list[dict]:
        ref = ev.object_reference(involved)
        fields = ",".join(f"involvedObject.{key}={ref[key]}"
                          for key in ("kind", "name", "namespace") if ref.get(key))
        found = self.list("v1", "Event", ev.event_namespace(ref), field_selector=fields)
        return sorted((e for e in found if ev.same_object(e, ref)), key=ev.sort_key)

    def list_events(self, namespace: str | None = None) -> list[dict]:
        return sorted(self.list("v1", "Event", namespace), key=ev.sort_key)

    def close(self) -> None:
        self.api_client.close()

