"""Builders for the identity tests: the management plane driven over HTTPS as ``az`` does.

Everything goes through the running local cloud's public endpoints with the local signed-in
account (``cloud/cli-credential.json``): resource groups, user-assigned identities and their
federated credentials, managed clusters; service-account tokens come from a cluster's
TokenRequest endpoint authenticated as its kubelet identity (a token from the node's IMDS).
"""

from __future__ import annotations

import json
import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from azure.identity import ClientSecretCredential

from kvcsi.cloud.aks_oidc.cluster_urls import api_server_url
from kvcsi.cloud.aks_oidc.token_requests import AKS_SERVER_APP_ID

WORKLOAD_AUDIENCE = "api://AzureADTokenExchange"
IDENTITY_API = "2023-01-31"
AKS_API = "2025-01-01"
GROUP_API = "2024-03-01"
COMPUTE_API = "2024-07-01"


def _tls(cloud: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cloud.ca_bundle)


def https(cloud: Any) -> httpx.Client:
    """An HTTPS client trusting the local CA."""
    return httpx.Client(verify=_tls(cloud), timeout=10)


@dataclass
class Arm:
    """An authenticated ARM/Graph client of one local cloud (the local account)."""

    cloud: Any

    def _token(self, resource: str) -> str:
        credential_file = self.cloud.home / "cloud" / "cli-credential.json"
        account = json.loads(credential_file.read_text())
        credential = ClientSecretCredential(
            account["tenantId"], account["clientId"], account["clientSecret"],
            authority=self.cloud.authority, disable_instance_discovery=True,
            connection_verify=self.cloud.ca_bundle)
        return credential.get_token(resource.rstrip("/") + "/.default").token

    def call(self, method: str, path: str, api_version: str, body: Any = None,
             *, graph: bool = False) -> httpx.Response:
        base = self.cloud.endpoints["graph" if graph else "resource_manager"].rstrip("/")
        token = self._token(self.cloud.endpoints["graph" if graph else "resource_manager"])
        params = {} if graph else {"api-version": api_version}
        return httpx.request(method, base + path, params=params, json=body,
                             headers={"Authorization": f"Bearer {token}"},
                             verify=_tls(self.cloud), timeout=30)

    def ok(self, method: str, path: str, api_version: str = "", body: Any = None,
           *, graph: bool = False) -> Any:
        response = self.call(method, path, api_version, body, graph=graph)
        assert response.status_code in (200, 201), response.text
        return response.json()

    @property
    def subscription(self) -> str:
        return f"/subscriptions/{self.cloud.endpoints['subscription_id']}"

    def group(self, name: str) -> str:
        self.ok("PUT", f"{self.subscription}/resourceGroups/{name}", GROUP_API,
                {"location": "eastus"})
        return f"{self.subscription}/resourceGroups/{name}"

    def identity(self, group: str, name: str) -> dict[str, Any]:
        return self.ok("PUT", f"{group}/providers/Microsoft.ManagedIdentity/"
                              f"userAssignedIdentities/{name}", IDENTITY_API,
                       {"location": "eastus"})

    def federate(self, identity: dict[str, Any], name: str, issuer: str, subject: str,
                 audience: str = WORKLOAD_AUDIENCE) -> dict[str, Any]:
        return self.ok("PUT", f"{identity['id']}/federatedIdentityCredentials/{name}",
                       IDENTITY_API, {"properties": {"issuer": issuer, "subject": subject,
                                                     "audiences": [audience]}})

    def cluster(self, group: str, name: str, *, oidc: bool | None = None) -> dict[str, Any]:
        properties: dict[str, Any] = {"dnsPrefix": name, "agentPoolProfiles": [
            {"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System"}]}
        if oidc is not None:
            properties["oidcIssuerProfile"] = {"enabled": oidc}
        return self.ok("PUT", f"{group}/providers/Microsoft.ContainerService/managedClusters/"
                              f"{name}", AKS_API,
                       {"location": "eastus", "identity": {"type": "SystemAssigned"},
                        "properties": properties})

    def node_imds(self, cluster: dict[str, Any]) -> str:
        """The IMDS address of the cluster's first node."""
        node_group = (f"{self.subscription}/resourceGroups/"
                      f"{cluster['properties']['nodeResourceGroup']}")
        scale_sets = self.ok("GET", f"{node_group}/providers/Microsoft.Compute/"
                                    "virtualMachineScaleSets", COMPUTE_API)["value"]
        vms = self.ok("GET", f"{scale_sets[0]['id']}/virtualMachines", COMPUTE_API)["value"]
        return f"{self.cloud.endpoints['imds_base']}/{vms[0]['properties']['vmId']}"


def kubelet_token(arm: Arm, cluster: dict[str, Any]) -> str:
    kubelet = cluster["properties"]["identityProfile"]["kubeletidentity"]
    response = httpx.get(f"{arm.node_imds(cluster)}/metadata/identity/oauth2/token",
                         params={"api-version": "2018-02-01", "resource": AKS_SERVER_APP_ID,
                                 "msi_res_id": kubelet["resourceId"]},
                         headers={"Metadata": "true"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def request_token(arm: Arm, cluster: dict[str, Any], namespace: str, account: str,
                  body: dict[str, Any] | None = None, *,
                  bearer: str | None = None) -> httpx.Response:
    """``POST .../serviceaccounts/{sa}/token`` on the cluster's local API server."""
    url = (f"{api_server_url(arm.cloud.authority, cluster['id'])}/api/v1/namespaces/"
           f"{namespace}/serviceaccounts/{account}/token")
    token = bearer if bearer is not None else kubelet_token(arm, cluster)
    return httpx.post(url, json=body if body is not None else {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"audiences": [WORKLOAD_AUDIENCE],
                 "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "app",
                                    "uid": str(uuid.uuid4())}}},
        headers={"Authorization": f"Bearer {token}"}, verify=_tls(arm.cloud), timeout=10)


def service_account_token(arm: Arm, cluster: dict[str, Any], namespace: str,
                          account: str) -> str:
    response = request_token(arm, cluster, namespace, account)
    assert response.status_code == 201, response.text
    return response.json()["status"]["token"]
