"""The API server's TokenRequest: service-account tokens signed with the cluster's key.

Upstream: ``POST /api/v1/namespaces/{ns}/serviceaccounts/{sa}/token`` (authentication.k8s.io/v1
``TokenRequest``) as kubelet calls it for a pod's CSI volume: ``spec.audiences``,
``spec.expirationSeconds`` (default 3600, at least 600, capped at 24 h here) and
``spec.boundObjectRef`` (the Pod). The answer is 201 with ``status.{token,
expirationTimestamp}``; the token carries ``aud`` (list), ``exp``, ``iat``, ``nbf``, ``iss``,
``jti``, ``sub`` = ``system:serviceaccount:{ns}:{sa}`` and ``kubernetes.io`` (namespace, node,
pod, serviceaccount).

Locally the objects live in the cluster store, which the cloud does not read; the caller
(the node runtime, authenticated as the cluster's kubelet identity) states the service
account's uid and the node in the TokenRequest's annotations (``kvcsi.dev/serviceaccount-uid``,
``kvcsi.dev/node-name``, ``kvcsi.dev/node-uid``), as the API server would look them up.
A cluster without its OIDC issuer signs with the in-cluster issuer
``https://kubernetes.default.svc.cluster.local``, which nothing outside can verify.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kvcsi.cloud.aks_oidc.signing_keys import ClusterSigner

DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 86400
IN_CLUSTER_ISSUER = "https://kubernetes.default.svc.cluster.local"
SA_UID_ANNOTATION = "kvcsi.dev/serviceaccount-uid"
NODE_NAME_ANNOTATION = "kvcsi.dev/node-name"
NODE_UID_ANNOTATION = "kvcsi.dev/node-uid"
# The Entra application AKS API servers accept tokens for ("Azure Kubernetes Service AAD
# Server"); the local node gets one from its IMDS, as the kubelet identity.
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"


@dataclass
class KubeStatusError(Exception):
    """A Kubernetes ``Status`` failure (``reason``, ``code``, ``message``)."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message,
                                "reason": self.reason}
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def unauthorized() -> KubeStatusError:
    return KubeStatusError(401, "Unauthorized", "Unauthorized")


def forbidden(user: str, namespace: str, name: str) -> KubeStatusError:
    return KubeStatusError(
        403, "Forbidden",
        f'serviceaccounts "{name}" is forbidden: User "{user}" cannot create resource '
        f'"serviceaccounts/token" in API group "" in the namespace "{namespace}"',
        {"name": name, "kind": "serviceaccounts"})


def invalid(name: str, field: str, value: Any, detail: str) -> KubeStatusError:
    text = f"{field}: Invalid value: {value}: {detail}"
    return KubeStatusError(
        422, "Invalid", f'TokenRequest.authentication.k8s.io "{name}" is invalid: {text}',
        {"name": name, "group": "authentication.k8s.io", "kind": "TokenRequest",
         "causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: {value}: "
                     f"{detail}", "field": field}]})


def rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_kubelet(signer: ClusterSigner, claims: dict[str, Any]) -> bool:
    """True when the caller's token is the cluster's kubelet identity's."""
    kubelet = (signer.cluster.get("properties", {}).get("identityProfile") or {}).get(
        "kubeletidentity") or {}
    wanted = str(kubelet.get("resourceId", "")).rstrip("/").lower()
    return bool(wanted) and str(claims.get("xms_mirid", "")).rstrip("/").lower() == wanted


def create_token(signer: ClusterSigner, namespace: str, name: str, request: dict[str, Any],
                 now: float | None = None) -> dict[str, Any]:
    """The TokenRequest answered (201 body); raises :class:`KubeStatusError`."""
    spec = request.get("spec") if isinstance(request.get("spec"), dict) else {}
    expiration = spec.get("expirationSeconds")
    if expiration is None:
        expiration = DEFAULT_EXPIRATION_SECONDS
    if not isinstance(expiration, int) or isinstance(expiration, bool):
        raise invalid(name, "spec.expirationSeconds", expiration, "must be an integer")
    if expiration < MIN_EXPIRATION_SECONDS:
        raise invalid(name, "spec.expirationSeconds", expiration,
                      "may not specify a duration less than 10 minutes")
    if expiration > 1 << 32:
        raise invalid(name, "spec.expirationSeconds", expiration,
                      "may not specify a duration larger than 2^32 seconds")
    issuer = signer.issuer or IN_CLUSTER_ISSUER
    audiences = [str(a) for a in spec.get("audiences") or []] or [issuer]
    bound = spec.get("boundObjectRef") or {}
    if bound and bound.get("kind") != "Pod":
        raise invalid(name, "spec.boundObjectRef.kind", f'"{bound.get("kind")}"',
                      'supported values: "Pod"')
    annotations = (request.get("metadata") or {}).get("annotations") or {}
    issued_at = int(time.time() if now is None else now)
    lifetime = min(expiration, MAX_EXPIRATION_SECONDS)
    expires = issued_at + lifetime
    private: dict[str, Any] = {"namespace": namespace}
    if annotations.get(NODE_NAME_ANNOTATION):
        private["node"] = {"name": annotations[NODE_NAME_ANNOTATION],
                           "uid": annotations.get(NODE_UID_ANNOTATION, "")}
    if bound:
        private["pod"] = {"name": str(bound.get("name", "")), "uid": str(bound.get("uid", ""))}
    private["serviceaccount"] = {"name": name,
                                 "uid": str(annotations.get(SA_UID_ANNOTATION, ""))}
    claims = {"aud": audiences, "exp": expires, "iat": issued_at, "iss": issuer,
              "jti": str(uuid.uuid4()), "kubernetes.io": private, "nbf": issued_at,
              "sub": f"system:serviceaccount:{namespace}:{name}"}
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": {"audiences": audiences, "expirationSeconds": expiration,
                 "boundObjectRef": bound or None},
        "status": {"token": signer.sign(claims), "expirationTimestamp": rfc3339(expires)},
    }
