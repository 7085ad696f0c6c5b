"""Kubernetes API failures (``metav1.Status`` bodies) as :mod:`kvcsi.cluster.errors` classes.

Counterpart: ``k8s.io/apimachinery/pkg/api/errors`` on the client side (``IsNotFound``,
``IsAlreadyExists``, ``IsConflict``...). The API server's ``reason`` decides the class and its
``message`` is kept verbatim, so ``str(error)`` reads the same against a real cluster as
against the local store. A 404 without a Status naming the object (the group/version or the
resource is not served: ``the server could not find the requested resource``) is
:class:`~kvcsi.cluster.errors.NoKindMatch`, as a RESTMapper miss is in client-go.
"""

from __future__ import annotations

import json
from typing import Any

from kvcsi.cluster.errors import (
    AlreadyExists,
    BadRequest,
    ClusterError,
    ClusterUnavailable,
    Conflict,
    Forbidden,
    Invalid,
    NoKindMatch,
    NotFound,
)
from kvcsi.cluster.kinds import KindInfo

_BY_REASON: dict[str, type[ClusterError]] = {
    "NotFound": NotFound,
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "Invalid": Invalid,
    "Forbidden": Forbidden,
    "BadRequest": BadRequest,
}
_BY_CODE: dict[int, type[ClusterError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


def status_body(body: Any) -> dict[str, Any]:
    """The decoded ``metav1.Status`` of an error response ({} when it is not one)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body:
        return {}
    try:
        decoded = json.loads(body)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) and decoded.get("kind") == "Status" else {}


def _with_message(cls: type[ClusterError], message: str, **attributes: Any) -> ClusterError:
    """An instance of ``cls`` carrying the server's message verbatim."""
    error = cls.__new__(cls)
    ClusterError.__init__(error, message)
    for key, value in attributes.items():
        setattr(error, key, value)
    return error


def api_error(http_status: int, body: Any, info: KindInfo, name: str = "") -> ClusterError:
    """Translate one failed response for an object of kind ``info`` named ``name``."""
    status = status_body(body)
    reason = str(status.get("reason") or "")
    details = status.get("details") or {}
    message = str(status.get("message") or "")
    if http_status == 404 and not details.get("name"):
        return NoKindMatch(info.kind, info.api_version)
    cls = _BY_REASON.get(reason) or _BY_CODE.get(http_status)
    if cls is None:
        text = message or f"the server responded with HTTP {http_status}"
        error = _with_message(ClusterError, text)
        error.reason = reason or "InternalError"
        error.code = http_status
        return error
    name = str(details.get("name") or name)
    if not message:
        message = _default_message(cls, info, name)
    extra: dict[str, Any] = {"resource_ref": info.resource_ref, "name": name}
    if cls is Invalid:
        causes = [
            f"{cause.get('field', '')}: {cause.get('message', '')}".lstrip(": ")
            for cause in details.get("causes") or []
        ]
        extra = {"kind": info.kind, "name": name, "causes": causes}
    return _with_message(cls, message, **extra)


def _default_message(cls: type[ClusterError], info: KindInfo, name: str) -> str:
    if cls is NotFound:
        return str(NotFound(info.resource_ref, name))
    if cls is AlreadyExists:
        return str(AlreadyExists(info.resource_ref, name))
    if cls is Conflict:
        return str(Conflict(info.resource_ref, name))
    return f"{cls.reason}: {info.resource_ref} \"{name}\""


def unreachable(host: str, cause: BaseException) -> ClusterUnavailable:
    """The API server could not be reached at all (no HTTP answer)."""
    return ClusterUnavailable(
        f"the Kubernetes API server at {host} is unreachable: {type(cause).__name__}"
    )
