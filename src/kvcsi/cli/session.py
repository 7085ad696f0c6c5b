"""The signed-in local account and its clients: ARM over HTTPS, Graph, Key Vault.

``kvcsi az`` reaches the local cloud the way az reaches Azure: an Entra token for the
local account (azure-identity ``ClientSecretCredential``, see the contract §3.4) and HTTPS
calls to ARM, Graph and the vault hosts, verified against the local CA.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from azure.core import PipelineClient
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RetryPolicy,
)
from azure.core.rest import HttpRequest
from azure.identity import ClientSecretCredential

from kvcsi import netrules
from kvcsi.cli.home import Home

ARM_API_VERSIONS = {
    "resourcegroups": "2024-03-01",
    "Microsoft.Subscription": "2021-10-01",
    "Microsoft.KeyVault": "2024-11-01",
    "Microsoft.ContainerService": "2025-01-01",
    "Microsoft.Compute": "2024-07-01",
    "Microsoft.ManagedIdentity": "2023-01-31",
    "Microsoft.Authorization": "2022-04-01",
    "subscriptions": "2022-12-01",
}


class AzError(Exception):
    """An error az would print as ``ERROR: (Code) Message``."""

    def __init__(self, code: str, message: str, status: int | None = None,
                 exit_code: int = 1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.exit_code = exit_code

    def render(self) -> str:
        if not self.code:
            return f"ERROR: {self.message}"
        return f"ERROR: ({self.code}) {self.message}\nCode: {self.code}\nMessage: {self.message}"


def _error_from_response(status: int, body: bytes) -> AzError:
    try:
        error = json.loads(body or b"{}").get("error") or {}
    except ValueError:
        error = {}
    code = error.get("code") or f"HttpError{status}"
    message = error.get("message") or body.decode("utf-8", "replace") or f"HTTP {status}"
    return AzError(code, message, status, exit_code=3 if status == 404 else 1)


class RestClient:
    """JSON calls with a bearer token for one resource, through an azure-core pipeline."""

    def __init__(self, base_url: str, credential: ClientSecretCredential, scope: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = PipelineClient(
            base_url=self.base_url,
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                RetryPolicy(retry_total=2),
                BearerTokenCredentialPolicy(credential, scope),
            ],
        )

    def call(self, method: str, path: str, body: Any = None,
             params: dict[str, str] | None = None) -> Any:
        request = HttpRequest(method, self.base_url + path, params=params or {},
                              json=body if body is not None else None)
        response = self._client.send_request(request)
        if response.status_code >= 400:
            raise _error_from_response(response.status_code, response.content)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


PROFILE_FILE = "az-profile.json"
KEYS_API_VERSION = "7.6-preview.2"
SECRETS_API_VERSION = "7.4"
CERTIFICATES_API_VERSION = "7.4"


@dataclass
class Session:
    """Everything ``kvcsi az`` needs, created lazily from the state directory.

    The selected subscription is ``--subscription`` when given, else the one
    ``az account set`` saved in ``$KVCSI_HOME/az-profile.json``, else the cloud's default.
    """

    home: Home
    subscription_override: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        netrules.install_loopback_only()
        netrules.install_localhost_resolution()

    @cached_property
    def endpoints(self) -> dict[str, Any]:
        endpoints = self.home.endpoints()
        os.environ["REQUESTS_CA_BUNDLE"] = endpoints["ca_bundle"]
        return endpoints

    @property
    def profile_file(self) -> Path:
        return self.home.root / PROFILE_FILE

    def saved_subscription(self) -> str | None:
        try:
            return str(json.loads(self.profile_file.read_text())["subscriptionId"])
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def save_subscription(self, subscription_id: str) -> None:
        partial = self.profile_file.with_suffix(".tmp")
        partial.write_text(json.dumps({"subscriptionId": subscription_id}) + "\n")
        os.replace(partial, self.profile_file)

    @cached_property
    def subscription_id(self) -> str:
        if self.subscription_override:
            return self.resolve_subscription(self.subscription_override)["subscriptionId"]
        return self.saved_subscription() or str(self.endpoints["subscription_id"])

    def subscriptions(self) -> list[dict[str, Any]]:
        """The subscriptions the signed-in account can see (``GET /subscriptions``)."""
        return list(self.arm_call("GET", "/subscriptions",
                                  ARM_API_VERSIONS["subscriptions"]).get("value", []))

    def resolve_subscription(self, name_or_id: str) -> dict[str, Any]:
        """A subscription by id or name, as ``--subscription`` / ``az account set`` take it."""
        wanted = name_or_id.lower()
        for subscription in self.subscriptions():
            if wanted in (subscription["subscriptionId"].lower(),
                          str(subscription.get("displayName", "")).lower()):
                return subscription
        raise AzError("", f"The subscription of '{name_or_id}' doesn't exist in cloud "
                          "'KvcsiLocal'.")

    @property
    def tenant_id(self) -> str:
        return str(self.endpoints["tenant_id"])

    @cached_property
    def credential(self) -> ClientSecretCredential:
        account = self.home.cli_credential()
        return ClientSecretCredential(
            account["tenantId"], account["clientId"], account["clientSecret"],
            authority=self.endpoints["authority"], disable_instance_discovery=True,
        )

    @cached_property
    def account_object_id(self) -> str:
        return str(self.home.cli_credential()["objectId"])

    @cached_property
    def arm(self) -> RestClient:
        resource = self.endpoints["resource_manager"]
        return RestClient(resource, self.credential, resource.rstrip("/") + "/.default")

    @cached_property
    def graph(self) -> RestClient:
        resource = self.endpoints["graph"]
        return RestClient(resource, self.credential, resource.rstrip("/") + "/.default")

    def arm_call(self, method: str, path: str, api_version: str, body: Any = None,
                 params: dict[str, str] | None = None) -> Any:
        query = {"api-version": api_version, **(params or {})}
        return self.arm.call(method, path, body, query)

    def secret_client(self, vault_uri: str) -> Any:
        from azure.keyvault.secrets import SecretClient

        return SecretClient(vault_uri, self.credential, api_version=SECRETS_API_VERSION,
                            verify_challenge_resource=False)

    def key_client(self, vault_uri: str) -> Any:
        from azure.keyvault.keys import KeyClient

        return KeyClient(vault_uri, self.credential, api_version=KEYS_API_VERSION,
                         verify_challenge_resource=False)

    def certificate_client(self, vault_uri: str) -> Any:
        from azure.keyvault.certificates import CertificateClient

        return CertificateClient(vault_uri, self.credential,
                                 api_version=CERTIFICATES_API_VERSION,
                                 verify_challenge_resource=False)
