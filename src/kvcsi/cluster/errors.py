"""Errors of the cluster store, carrying the texts a Kubernetes API server and kubectl print.

Counterparts: ``k8s.io/apimachinery/pkg/api/errors`` (StatusError reasons and messages) and
``k8s.io/apimachinery/pkg/api/meta`` (``NoKindMatchError``). ``str(error)`` is the API
server's message (``pods "mypod" not found``); :meth:`ClusterError.kubectl_text` is what
kubectl prints for it (``Error from server (NotFound): pods "mypod" not found``).
"""

from __future__ import annotations

SPC_GROUP = "secrets-store.csi.x-k8s.io"
CSI_DRIVER_NAME = "secrets-store.csi.k8s.io"


class ClusterError(Exception):
    """Base class: an API status with a reason (``NotFound``) and an HTTP code."""

    reason = "InternalError"
    code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def kubectl_text(self, source: str | None = None, operation: str | None = None) -> str:
        """What kubectl prints; with ``source``: ``error when <operation> "<source>": ...``."""
        body = self.message
        if source is not None and operation is not None:
            body = f'error when {operation} "{source}": {body}'
        return f"Error from server ({self.reason}): {body}"


class NotFound(ClusterError):
    """``<resource>[.<group>] "<name>" not found``."""

    reason = "NotFound"
    code = 404

    def __init__(self, resource_ref: str, name: str) -> None:
        super().__init__(f'{resource_ref} "{name}" not found')
        self.resource_ref = resource_ref
        self.name = name


class AlreadyExists(ClusterError):
    """``<resource>[.<group>] "<name>" already exists``."""

    reason = "AlreadyExists"
    code = 409

    def __init__(self, resource_ref: str, name: str) -> None:
        super().__init__(f'{resource_ref} "{name}" already exists')
        self.resource_ref = resource_ref
        self.name = name


class Conflict(ClusterError):
    """Optimistic concurrency failure on ``metadata.resourceVersion``."""

    reason = "Conflict"
    code = 409

    def __init__(self, resource_ref: str, name: str) -> None:
        super().__init__(
            f'Operation cannot be fulfilled on {resource_ref} "{name}": the object has been '
            "modified; please apply your changes to the latest version and try again"
        )
        self.resource_ref = resource_ref
        self.name = name


class Invalid(ClusterError):
    """Validation failure: ``The <Kind> "<name>" is invalid: <field>: <detail>``."""

    reason = "Invalid"
    code = 422

    def __init__(self, kind: str, name: str, causes: list[str]) -> None:
        if len(causes) == 1:
            detail = causes[0]
        else:
            detail = "".join(f"\n* {cause}" for cause in causes)
        super().__init__(f'The {kind} "{name}" is invalid: {detail}')
        self.kind = kind
        self.name = name
        self.causes = list(causes)

    def kubectl_text(self, source: str | None = None, operation: str | None = None) -> str:
        return self.message


class Forbidden(ClusterError):
    """Admission refusal: ``<resource> "<name>" is forbidden: <why>``."""

    reason = "Forbidden"
    code = 403

    def __init__(self, resource_ref: str, name: str, why: str) -> None:
        super().__init__(f'{resource_ref} "{name}" is forbidden: {why}')


class BadRequest(ClusterError):
    """A request the API server cannot decode (no kind, no name, wrong shape)."""

    reason = "BadRequest"
    code = 400


class NoKindMatch(ClusterError):
    """The group/version does not serve this kind (discovery failure, not a server error).

    ``str()`` is ``no matches for kind "<Kind>" in version "<group/version>"``; ``hint`` is
    kvcsi's extra advice (set for the seed's wrong group ``secrets-store.csi.k8s.io``).
    """

    reason = "NoKindMatch"
    code = 404

    def __init__(self, kind: str, api_version: str) -> None:
        super().__init__(f'no matches for kind "{kind}" in version "{api_version}"')
        self.kind = kind
        self.api_version = api_version
        self.hint = wrong_group_hint(kind, api_version)

    def kubectl_text(self, source: str | None = None, operation: str | None = None) -> str:
        return f"error: {self.message}"

    def mapping_text(self, name: str, namespace: str, source: str) -> str:
        """kubectl apply's text for a document whose kind is not served, with the hint."""
        text = (
            f'resource mapping not found for name: "{name}" namespace: "{namespace}" '
            f'from "{source}": {self.message}\nensure CRDs are installed first'
        )
        if self.hint:
            text += f"\n{self.hint}"
        return text


class ClusterUnavailable(ClusterError):
    """No cluster is configured or reachable (no store path, missing store file)."""

    reason = "ServiceUnavailable"
    code = 503

    def kubectl_text(self, source: str | None = None, operation: str | None = None) -> str:
        return f"error: {self.message}"


def wrong_group_hint(kind: str, api_version: str) -> str | None:
    """kvcsi's advice when a SecretProviderClass names the CSI driver name as its group."""
    group = api_version.rpartition("/")[0]
    if group != CSI_DRIVER_NAME:
        return None
    return (
        f"hint (kvcsi): {CSI_DRIVER_NAME} is the CSI driver name, not an API group; "
        f"the {kind} API group is {SPC_GROUP}: use apiVersion: {SPC_GROUP}/v1"
    )
