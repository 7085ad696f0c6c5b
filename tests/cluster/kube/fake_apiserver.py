"""A small Kubernetes API server on 127.0.0.1 for testing the Kubernetes adapter.

It answers as kube-apiserver does for the resources the driver uses, and records every
request (method, path, query, content type, decoded body):

- paths ``/api/v1[/namespaces/{ns}]/{plural}[/{name}[/status]]`` and
  ``/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/status]]``; anything not
  served is a 404 Status ``the server could not find the requested resource``;
- POST creates (201; 409 ``AlreadyExists``), PUT replaces (409 ``Conflict`` on a stale
  ``metadata.resourceVersion``; 422 ``Invalid`` without one, as for custom resources),
  PATCH takes ``application/merge-patch+json``, DELETE answers the deleted object;
- ``/status`` writes change only ``status`` and only exist for kinds with the subresource
  (Pods here; SecretProviderClassPodStatus has none, as upstream's CRD);
- ``labelSelector`` (``a=b``, ``a!=b``, ``a``) and ``fieldSelector`` (``a.b=c``) filter lists;
  list ``metadata.resourceVersion`` is the global revision;
- ``fail_next(method, path_suffix, status_body)`` injects an error answer once.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SPC_GROUP = "secrets-store.csi.x-k8s.io"


@dataclass(frozen=True)
class Resource:
    group: str
    versions: tuple[str, ...]
    plural: str
    kind: str
    namespaced: bool = True
    status_subresource: bool = False


RESOURCES = (
    Resource("", ("v1",), "pods", "Pod", status_subresource=True),
    Resource("", ("v1",), "secrets", "Secret"),
    Resource("", ("v1",), "events", "Event"),
    Resource("", ("v1",), "namespaces", "Namespace", namespaced=False),
    Resource(SPC_GROUP, ("v1", "v1alpha1"), "secretproviderclasses", "SecretProviderClass"),
    Resource(SPC_GROUP, ("v1", "v1alpha1"), "secretproviderclasspodstatuses",
             "SecretProviderClassPodStatus"),
    Resource("apiextensions.k8s.io", ("v1",), "customresourcedefinitions",
             "CustomResourceDefinition", namespaced=False),
)


@dataclass
class Recorded:
    authorization: str
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any


def status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


@dataclass
class FakeApiServer:
    objects: dict[tuple[str, str, str, str], dict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    revision: int = 100
    failures: list[tuple[str, str, int, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- test helpers ---------------------------------------------------------------------

    def put_object(self, obj: dict) -> dict:
        """Store ``obj`` directly (as if created earlier); returns the stored copy."""
        resource, _version = self._resource_of(obj["apiVersion"], obj["kind"])
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            meta.setdefault("namespace", "default")
        self._stamp(meta, new=True)
        key = (resource.group, resource.plural, meta.get("namespace", ""), meta["name"])
        self.objects[key] = copy.deepcopy(obj)
        return copy.deepcopy(obj)

    def stored(self, group: str, plural: str, namespace: str, name: str) -> dict:
        return copy.deepcopy(self.objects[(group, plural, namespace, name)])

    def fail_next(self, method: str, path_suffix: str, code: int, body: dict) -> None:
        self.failures.append((method, path_suffix, code, body))

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def _resource_of(self, api_version: str, kind: str) -> tuple[Resource, str]:
        group, _, version = api_version.rpartition("/")
        for resource in RESOURCES:
            if resource.group == group and resource.kind == kind and version in resource.versions:
                return resource, version
        raise KeyError(api_version + " " + kind)

    def _stamp(self, meta: dict, new: bool) -> None:
        self.revision += 1
        meta["resourceVersion"] = str(self.revision)
        if new:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", "2026-12-03T17:00:00Z")

    # -- request handling -----------------------------------------------------------------

    def handle(self, method: str, raw_path: str, content_type: str, raw_body: bytes,
               authorization: str = ""):
        parts = urlsplit(raw_path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = json.loads(raw_body) if raw_body else None
        with self.lock:
            self.requests.append(
                Recorded(authorization, method, parts.path, query, content_type,
                         copy.deepcopy(body))
            )
            for index, (m, suffix, code, answer) in enumerate(self.failures):
                if m == method and parts.path.endswith(suffix):
                    del self.failures[index]
                    return code, answer
            route = self._route(parts.path)
            if route is None:
                return 404, status(404, "NotFound",
                                   "the server could not find the requested resource", {})
            return self._serve(method, route, query, content_type, body)

    def _route(self, path: str):
        segments = [s for s in path.split("/") if s]
        if segments[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", segments[2:]
        elif segments[:1] == ["apis"] and len(segments) >= 3:
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            return None
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif len(rest) == 2 and rest[0] == "namespaces":  # a namespace object itself
            pass
        if not rest or len(rest) > 3 or (len(rest) == 3 and rest[2] != "status"):
            return None
        plural = rest[0]
        name = rest[1] if len(rest) >= 2 else ""
        sub = rest[2] if len(rest) == 3 else ""
        for resource in RESOURCES:
            served = version in resource.versions
            if (resource.group, resource.plural) == (group, plural) and served:
                if sub and not resource.status_subresource:
                    return None
                return resource, version, namespace, name, sub
        return None

    def _serve(self, method, route, query, content_type, body):
        resource, version, namespace, name, sub = route
        api_version = f"{resource.group}/{version}" if resource.group else version
        ref = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
        key = (resource.group, resource.plural, namespace, name)
        details = {"name": name, "group": resource.group, "kind": resource.plural}

        def out(obj: dict) -> dict:
            shown = copy.deepcopy(obj)
            shown["apiVersion"] = api_version
            return shown

        def missing():
            return 404, status(404, "NotFound", f'{ref} "{name}" not found', details)

        if method == "GET" and not name:
            return 200, self._list(resource, api_version, namespace, query)
        if method == "GET":
            return (200, out(self.objects[key])) if key in self.objects else missing()
        if method == "POST" and not name:
            meta = body.setdefault("metadata", {})
            name = meta.get("name", "")
            key = (resource.group, resource.plural, namespace, name)
            details["name"] = name
            if key in self.objects:
                return 409, status(409, "AlreadyExists", f'{ref} "{name}" already exists', details)
            if resource.namespaced:
                meta["namespace"] = namespace
            body.pop("status", None) if resource.status_subresource else None
            self._stamp(meta, new=True)
            self.objects[key] = copy.deepcopy(body)
            return 201, out(body)
        if key not in self.objects:
            return missing()
        existing = self.objects[key]
        if method == "PUT":
            wanted = (body.get("metadata") or {}).get("resourceVersion")
            if not wanted:
                return 422, status(422, "Invalid", f'{resource.kind} "{name}" is invalid: '
                                   "metadata.resourceVersion: Invalid value: 0x0: must be "
                                   "specified for an update", details)
            if wanted != existing["metadata"]["resourceVersion"]:
                return 409, status(409, "Conflict", f'Operation cannot be fulfilled on {ref} '
                                   f'"{name}": the object has been modified; please apply your '
                                   "changes to the latest version and try again", details)
            if sub == "status":
                updated = copy.deepcopy(existing)
                updated["status"] = body.get("status")
            else:
                updated = copy.deepcopy(body)
                for kept in ("uid", "creationTimestamp"):
                    updated["metadata"][kept] = existing["metadata"][kept]
                if resource.status_subresource and "status" in existing:
                    updated["status"] = existing["status"]
            self._stamp(updated["metadata"], new=False)
            self.objects[key] = updated
            return 200, out(updated)
        if method == "PATCH":
            if content_type != "application/merge-patch+json":
                return 415, status(415, "UnsupportedMediaType",
                                   "the body of the request was in an unknown format - "
                                   "accepted media types include: application/merge-patch+json")
            patch = body if sub != "status" else {"status": body.get("status")}
            updated = merge(copy.deepcopy(existing), patch)
            self._stamp(updated["metadata"], new=False)
            self.objects[key] = updated
            return 200, out(updated)
        if method == "DELETE":
            del self.objects[key]
            return 200, out(existing)
        return 405, status(405, "MethodNotAllowed", "method not allowed")

    def _list(self, resource: Resource, api_version: str, namespace: str, query: dict) -> dict:
        items = []
        for (group, plural, ns, _name), obj in sorted(self.objects.items()):
            if (group, plural) != (resource.group, resource.plural):
                continue
            if namespace and ns != namespace:
                continue
            if not labels_match(obj["metadata"].get("labels") or {}, query.get("labelSelector")):
                continue
            if not fields_match(obj, query.get("fieldSelector")):
                continue
            items.append(copy.deepcopy(obj))
        return {"kind": f"{resource.kind}List", "apiVersion": api_version,
                "metadata": {"resourceVersion": str(self.revision)}, "items": items}


def merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge(target.get(key), value)
    return target


def labels_match(labels: dict[str, str], selector: str | None) -> bool:
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key) != value.lstrip("="):
                return False
        elif term not in labels:
            return False
    return True


def fields_match(obj: dict, selector: str | None) -> bool:
    for term in filter(None, (selector or "").split(",")):
        path, value = term.split("=", 1)
        current: Any = obj
        for part in path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if str(current or "") != value:
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    api: FakeApiServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0]
        code, payload = self.api.handle(self.command, self.path, content_type, raw,
                                        self.headers.get("Authorization") or "")
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:  # quiet
        pass


class RunningApiServer:
    """``with RunningApiServer() as api:`` serves a FakeApiServer on 127.0.0.1:<ephemeral>."""

    def __init__(self) -> None:
        self.api = FakeApiServer()
        handler = type("Handler", (_Handler,), {"api": self.api})
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_port}"
        self._thread = threading.Thread(
            target=self.http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeApiServer:
        self._thread.start()
        return self.api

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()

    def kubeconfig(self, path) -> str:
        """Write a kubeconfig for this server (token auth) and return its path."""
        text = (
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
            f"clusters:\n- name: fake\n  cluster:\n    server: {self.url}\n"
            "contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: driver\n"
            "users:\n- name: driver\n  user:\n    token: test-bearer-token\n"
        )
        path.write_text(text)
        return str(path)
