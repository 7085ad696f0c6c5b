"""kubelet's service-account tokens for CSI volumes (``csi.storage.k8s.io/serviceAccount.tokens``).

Counterpart: ``podServiceAccountTokenAttrs`` in ``pkg/volume/csi/csi_mounter.go`` with
kubelet's token manager (``pkg/kubelet/token``). For each ``spec.tokenRequests`` entry of the
CSIDriver object, kubelet asks the API server for a token of the pod's service account
(TokenRequest: the audience, ``expirationSeconds`` or the default 3600, bound to the pod) and
passes ``{"<aud>": {"token": "...", "expirationTimestamp": "RFC3339"}}`` as one volume-context
value. Tokens are cached per (namespace, service account, audience, expiration, pod uid) and
renewed once 80 % of their lifetime has passed or they are older than 24 h.

Locally the API server's TokenRequest lives in the local cloud (``docs/design/local-wiring.md``
§3.6): ``{authority}hcp/{uid}/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token`` with ``uid``
= ``uuid5(NAMESPACE_URL, lower-cased cluster resource id)``. The node authenticates as the
cluster's kubelet identity: a token from its VM's IMDS for the AKS server application,
selected with ``msi_res_id`` = the ``{cluster}-agentpool`` identity in the node resource
group. The service account must exist in the cluster store (its uid goes into the token).
Tokens never appear in logs or error texts.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from kvcsi.cluster.errors import NotFound

log = logging.getLogger(__name__)

TOKENS_KEY = "csi.storage.k8s.io/serviceAccount.tokens"
DEFAULT_EXPIRATION_SECONDS = 3600
MAX_TOKEN_AGE_SECONDS = 24 * 3600
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
IMDS_API_VERSION = "2018-02-01"
KUBELET_TOKEN_MARGIN_SECONDS = 300
HTTP_TIMEOUT_SECONDS = 10.0
SA_UID_ANNOTATION = "kvcsi.dev/serviceaccount-uid"
NODE_NAME_ANNOTATION = "kvcsi.dev/node-name"
NODE_UID_ANNOTATION = "kvcsi.dev/node-uid"


class ServiceAccountTokenError(Exception):
    """A token could not be obtained; ``str()`` is what kubelet puts after its prefix."""


def cluster_uid(cluster_resource_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, cluster_resource_id.rstrip("/").lower()))


def kubelet_identity_id(cluster_resource_id: str, node_resource_group: str) -> str:
    """The AKS kubelet identity: ``{cluster}-agentpool`` in the node resource group."""
    parts = [p for p in cluster_resource_id.split("/") if p]
    subscription, cluster = parts[1], parts[-1]
    return (f"/subscriptions/{subscription}/resourceGroups/{node_resource_group}/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{cluster}-agentpool")


@dataclass(frozen=True)
class CachedToken:
    token: str
    expiration_timestamp: str
    issued_at: float
    expires_at: float

    def needs_refresh(self, now: float) -> bool:
        lifetime = self.expires_at - self.issued_at
        return now > self.expires_at - 0.2 * lifetime or now - self.issued_at > \
            MAX_TOKEN_AGE_SECONDS


def _parse_rfc3339(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _status_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status" and body.get("message"):
        return str(body["message"])
    return f"the server responded with the status code {response.status_code}"


class ServiceAccountTokens:
    """The token source of one node (its IMDS address, its cluster's ``cluster.json``)."""

    def __init__(self, home: Path, cluster_file: Path, node_name: str, imds_endpoint: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.home = Path(home)
        self.cluster_file = cluster_file
        self.node_name = node_name
        self.imds_endpoint = imds_endpoint.rstrip("/")
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, ...], CachedToken] = {}
        self._kubelet: tuple[str, float] | None = None

    # -- what the volume manager calls -----------------------------------------------------
    def attributes(self, store: Any, pod: Mapping[str, Any],
                   csi_driver: Mapping[str, Any] | None) -> dict[str, str]:
        """``{TOKENS_KEY: json}`` when the CSIDriver has ``tokenRequests``, else ``{}``."""
        requests = ((csi_driver or {}).get("spec") or {}).get("tokenRequests") or []
        if not requests:
            return {}
        metadata = pod.get("metadata") or {}
        namespace = metadata.get("namespace") or "default"
        account = (pod.get("spec") or {}).get("serviceAccountName") or "default"
        try:
            service_account = store.get("v1", "ServiceAccount", namespace, account)
        except NotFound:
            raise ServiceAccountTokenError(
                f'serviceaccounts "{account}" not found') from None
        outputs: dict[str, dict[str, str]] = {}
        for request in requests:
            audience = str(request.get("audience") or "")
            expiration = request.get("expirationSeconds")
            token = self._token(namespace, account, service_account, pod, audience,
                                int(expiration) if expiration is not None else None)
            outputs[audience] = {"token": token.token,
                                 "expirationTimestamp": token.expiration_timestamp}
        log.debug("fetched service account token attrs for pod %s/%s", namespace,
                  metadata.get("name"))
        # Go's encoding: map keys sorted, struct fields in declaration order, no spaces.
        ordered = {audience: outputs[audience] for audience in sorted(outputs)}
        return {TOKENS_KEY: json.dumps(ordered, separators=(",", ":"))}

    # -- token manager ---------------------------------------------------------------------
    def _token(self, namespace: str, account: str, service_account: Mapping[str, Any],
               pod: Mapping[str, Any], audience: str, expiration: int | None) -> CachedToken:
        metadata = pod.get("metadata") or {}
        key = (namespace, account, audience, str(expiration), str(metadata.get("uid", "")))
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and not cached.needs_refresh(now):
                return cached
        spec: dict[str, Any] = {
            "audiences": [audience] if audience else [],
            "boundObjectRef": {"apiVersion": "v1", "kind": "Pod",
                               "name": metadata.get("name", ""), "uid": metadata.get("uid", "")},
        }
        if expiration is not None:
            spec["expirationSeconds"] = expiration
        annotations = {SA_UID_ANNOTATION: str((service_account.get("metadata") or {}).get(
            "uid", "")), NODE_NAME_ANNOTATION: self.node_name}
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                "metadata": {"annotations": annotations}, "spec": spec}
        status = self._post_token_request(namespace, account, body)
        fresh = CachedToken(status["token"], status["expirationTimestamp"], now,
                            _parse_rfc3339(status["expirationTimestamp"]))
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items()
                           if not v.needs_refresh(now)}
            self._cache[key] = fresh
        return fresh

    # -- wire calls ------------------------------------------------------------------------
    def _cluster(self) -> dict[str, Any]:
        try:
            document = json.loads(self.cluster_file.read_text())
        except (OSError, ValueError) as error:
            raise ServiceAccountTokenError(f"cannot read {self.cluster_file}: "
                                           f"{type(error).__name__}") from None
        if not document.get("resourceId") or not document.get("nodeResourceGroup"):
            raise ServiceAccountTokenError(f"{self.cluster_file} names no managed cluster")
        return document

    def _endpoints(self) -> dict[str, Any]:
        try:
            endpoints = json.loads((self.home / "cloud" / "endpoints.json").read_text())
        except (OSError, ValueError):
            raise ServiceAccountTokenError(
                "the cluster's API server is not reachable: the local cloud is not running"
            ) from None
        return endpoints

    def _kubelet_token(self, cluster: Mapping[str, Any]) -> str:
        now = self._clock()
        if self._kubelet is not None and self._kubelet[1] - KUBELET_TOKEN_MARGIN_SECONDS > now:
            return self._kubelet[0]
        params = {"api-version": IMDS_API_VERSION, "resource": AKS_SERVER_APP_ID,
                  "msi_res_id": kubelet_identity_id(cluster["resourceId"],
                                                    cluster["nodeResourceGroup"])}
        try:
            response = httpx.get(f"{self.imds_endpoint}/metadata/identity/oauth2/token",
                                 params=params, headers={"Metadata": "true"},
                                 timeout=HTTP_TIMEOUT_SECONDS)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceAccountTokenError(
                f"kubelet identity token from IMDS failed: {type(error).__name__}") from None
        if response.status_code != 200 or "access_token" not in body:
            raise ServiceAccountTokenError(
                "kubelet identity token from IMDS failed: "
                f"{body.get('error_description', response.status_code)}")
        self._kubelet = (str(body["access_token"]), float(body.get("expires_on", now)))
        return self._kubelet[0]

    def _post_token_request(self, namespace: str, account: str,
                            body: dict[str, Any]) -> dict[str, str]:
        cluster = self._cluster()
        endpoints = self._endpoints()
        api_server = (f"{str(endpoints['authority']).rstrip('/')}/hcp/"
                      f"{cluster_uid(cluster['resourceId'])}")
        url = f"{api_server}/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token"
        headers = {"Authorization": f"Bearer {self._kubelet_token(cluster)}",
                   "Content-Type": "application/json", "Accept": "application/json"}
        verify = ssl.create_default_context(
            cafile=str(endpoints.get("ca_bundle") or self.home / "cloud" / "ca.pem"))
        try:
            response = httpx.post(url, json=body, headers=headers, verify=verify,
                                  timeout=HTTP_TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise ServiceAccountTokenError(
                f'Post "{url}": {type(error).__name__}') from None
        if response.status_code != 201:
            if response.status_code == 401:
                self._kubelet = None
            raise ServiceAccountTokenError(_status_message(response))
        status = (response.json() or {}).get("status") or {}
        if not status.get("token") or not status.get("expirationTimestamp"):
            raise ServiceAccountTokenError("the TokenRequest answer carries no token")
        return status
