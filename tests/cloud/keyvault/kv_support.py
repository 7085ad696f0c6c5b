"""Helpers of the Key Vault data-plane tests: role assignments written as ARM writes them, tokens
from the local token service, and :class:`VaultUnderTest` (a vault, its administrator app, a raw
HTTPS caller and the unmodified SDK clients configured only by URL and CA bundle)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import requests
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from support.local_cloud import AppCredential, LocalCloud

from kvcsi.cloud.arm import ids, rbac, roles

ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
READER = "21090545-7ca7-4776-b22c-e363652d74d2"


def assign_role(cloud: LocalCloud, principal_id: str, role_guid: str, scope: str) -> str:
    """Write a role assignment document as ARM does (contract §3.1); returns its id."""
    subscription = cloud.seed.subscription_id
    assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    cloud.store.put("arm", ids.key(assignment_id), {
        "id": assignment_id, "name": assignment_id.rsplit("/", 1)[1],
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": roles.role_definition_id(subscription, role_guid),
                       "principalId": principal_id, "principalType": "ServicePrincipal",
                       "scope": scope}}, parent=rbac.assignments_collection(scope))
    return assignment_id


def fetch_token(cloud: LocalCloud, app: AppCredential, resource: str | None = None) -> str:
    response = requests.post(
        f"{cloud.authority}/{cloud.tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": app.client_id,
              "client_secret": app.client_secret,
              "scope": (resource or cloud.endpoints["keyvault_resource"]) + "/.default"},
        verify=cloud.ca_bundle, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class VaultUnderTest:
    """One vault, its administrator app and ways to call it."""

    def __init__(self, cloud: LocalCloud, vault: dict[str, Any], app: AppCredential,
                 assignment_id: str) -> None:
        self.cloud, self.vault, self.app, self.assignment_id = cloud, vault, app, assignment_id
        self.name = vault["name"]
        self.url = cloud.vault_url(vault["name"])
        self.token = fetch_token(cloud, app)
        self.session = requests.Session()
        self.session.verify = cloud.ca_bundle

    def call(self, method: str, path: str, *, token: Any = ..., api_version: str | None = "7.6",
             json: Any = None, headers: dict[str, str] | None = None,
             params: dict[str, str] | None = None, url: str | None = None) -> requests.Response:
        all_headers = dict(headers or {})
        token = self.token if token is ... else token
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        query = dict(params or {})
        if api_version is not None:
            query["api-version"] = api_version
        return self.session.request(method, url or self.url + path, params=query, json=json,
                                    headers=all_headers, verify=self.cloud.ca_bundle, timeout=10)

    def follow(self, next_link: str) -> dict[str, Any]:
        """GET a ``nextLink`` exactly as given."""
        response = self.session.get(next_link, headers={"Authorization": f"Bearer {self.token}"},
                                    verify=self.cloud.ca_bundle, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def credential(self, app: AppCredential | None = None) -> ClientSecretCredential:
        app = app or self.app
        return ClientSecretCredential(app.tenant_id, app.client_id, app.client_secret,
                                      authority=self.cloud.authority,
                                      disable_instance_discovery=True,
                                      connection_verify=self.cloud.ca_bundle)

    def secret_client(self, app: AppCredential | None = None, **options: Any) -> SecretClient:
        return SecretClient(self.url, self.credential(app), connection_verify=self.cloud.ca_bundle,
                            **options)

    def key_client(self, app: AppCredential | None = None, **options: Any) -> KeyClient:
        return KeyClient(self.url, self.credential(app), connection_verify=self.cloud.ca_bundle,
                         **options)

    def new_app(self, name: str, role_guid: str | None = None,
                scope: str | None = None) -> AppCredential:
        app = self.cloud.seed.app(name)
        if role_guid:
            assign_role(self.cloud, app.object_id, role_guid, scope or self.vault["id"])
        return app


def vault_name_for(node_name: str) -> str:
    return "v" + re.sub(r"[^a-z0-9]", "", node_name.lower())[-18:] + uuid.uuid4().hex[:4]


def error_of(response: requests.Response) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()
