"""Key Vault over raw HTTPS: the challenge, token refusals, 403 bodies, shapes and headers."""

from __future__ import annotations

import re

import pytest
import requests

from kvcsi.cloud.identity.tokens import TokenIssuer

GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
SET_SECRET = "Microsoft.KeyVault/vaults/secrets/setSecret/action"
READ_METADATA = "Microsoft.KeyVault/vaults/secrets/readMetadata/action"


@pytest.fixture
def kv(shared_local_cloud, fake_rbac, request):
    """A fresh RBAC vault, an app with every secrets permission on it, and a session."""
    cloud = shared_local_cloud
    name = "v" + re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-20:]
    vault = cloud.seed.vault(name)
    app = cloud.seed.app()
    for action in (GET_SECRET, SET_SECRET, READ_METADATA):
        fake_rbac.grant(app.object_id, action, vault["id"])
    token = _token(cloud, app.client_id, app.client_secret)
    return Vault(cloud, vault, app, token, fake_rbac)


def _token(cloud, client_id, secret, resource=None):
    response = requests.post(
        f"{cloud.authority}/{cloud.tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": client_id,
              "client_secret": secret,
              "scope": (resource or cloud.endpoints["keyvault_resource"]) + "/.default"},
        verify=cloud.ca_bundle, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


class Vault:
    def __init__(self, cloud, vault, app, token, rbac):
        self.cloud, self.vault, self.app, self.token, self.rbac = cloud, vault, app, token, rbac
        self.url = cloud.vault_url(vault["name"])

    def call(self, method, path, *, token=..., api_version="7.4", json=None, headers=None,
             url=None, params=None):
        all_headers = dict(headers or {})
        token = self.token if token is ... else token
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        query = dict(params or {})
        if api_version is not None:
            query["api-version"] = api_version
        return requests.request(method, url or self.url + path, params=query, json=json,
                                headers=all_headers, verify=self.cloud.ca_bundle, timeout=10)


def _error(response):
    return response.status_code, response.json()


def test_challenge_without_token(kv):
    cloud = kv.cloud
    response = kv.call("PUT", "/secrets/alpha", token=None, headers={"Content-Length": "0"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer authorization="https://localhost:{cloud.https_port}/{cloud.tenant_id}", '
        f'resource="https://vault.localhost:{cloud.https_port}"')
    assert response.json() == {"error": {
        "code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_api_version_is_required_and_checked(kv):
    assert _error(kv.call("GET", "/secrets", api_version=None)) == (400, {"error": {
        "code": "BadParameter",
        "message": "The api-version query parameter (?api-version=) is required for all "
                   "requests."}})
    assert _error(kv.call("GET", "/secrets", api_version="1999-01-01")) == (400, {"error": {
        "code": "BadParameter",
        "message": "The specified version (1999-01-01) is not recognized. Consider using the "
                   "latest supported version (2026-04-01)."}})
    for version in ("7.0", "7.6", "7.6-preview.2", "2025-07-01", "2026-04-01", "2016-10-01"):
        assert kv.call("GET", "/secrets", api_version=version).status_code == 200, version


def test_unknown_vault_is_404(kv):
    url = kv.cloud.vault_url("nosuchvault") + "/secrets"
    status, body = _error(kv.call("GET", "", url=url))
    assert status == 404
    assert body["error"]["code"] == "VaultNotFound"
    assert "nosuchvault" in body["error"]["message"]


def _unauthorized(kv, token) -> str:
    response = kv.call("GET", "/secrets", token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer authorization="')
    assert response.json()["error"]["code"] == "Unauthorized"
    return response.json()["error"]["message"]


def test_token_for_another_audience_is_akv10022(kv):
    arm = kv.cloud.endpoints["resource_manager"]
    token = _token(kv.cloud, kv.app.client_id, kv.app.client_secret, resource=arm)
    assert _unauthorized(kv, token) == (
        f"AKV10022: Invalid audience. Expected https://vault.localhost:{kv.cloud.https_port}, "
        f"found: {arm}.")


def test_token_of_another_tenant_is_akv10032(kv):
    issuer: TokenIssuer = kv.cloud.runner.context.issuer
    other = "99999999-9999-9999-9999-999999999999"
    token, _ = issuer.issue({"id": kv.app.object_id, "appId": kv.app.client_id},
                            kv.cloud.endpoints["keyvault_resource"], other)
    assert _unauthorized(kv, token) == (
        f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{kv.cloud.tenant_id}/"
        f", https://login.microsoftonline.com/{kv.cloud.tenant_id}/v2.0, found "
        f"https://sts.windows.net/{other}/.")


def test_expired_and_garbage_tokens(kv, tmp_path):
    issuer: TokenIssuer = kv.cloud.runner.context.issuer
    expired, _ = issuer.issue({"id": kv.app.object_id, "appId": kv.app.client_id},
                              kv.cloud.endpoints["keyvault_resource"], kv.cloud.tenant_id,
                              lifetime_seconds=-5)
    assert _unauthorized(kv, expired) == "[TokenExpired] Error validating token: 'S2S12086'."
    assert _unauthorized(kv, "garbage") == (
        "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'.")
    foreign, _ = TokenIssuer(issuer.store, tmp_path).issue(
        {"id": "x", "appId": "y"}, kv.cloud.endpoints["keyvault_resource"], kv.cloud.tenant_id)
    assert _unauthorized(kv, foreign).startswith(
        "AKV10046: Unable to resolve the key used for signature validation.")


def test_set_get_and_versions_shapes(kv):
    set_response = kv.call("PUT", "/secrets/Alpha", json={
        "value": "one", "contentType": "text/plain", "tags": {"team": "a"},
        "attributes": {"enabled": True, "exp": 4102444800}},
        headers={"x-ms-client-request-id": "req-123"})
    assert set_response.status_code == 200
    assert set_response.headers["x-ms-client-request-id"] == "req-123"
    assert re.fullmatch(r"[0-9a-f-]{36}", set_response.headers["x-ms-request-id"])
    assert set_response.headers["content-type"] == "application/json; charset=utf-8"
    assert set_response.headers["x-ms-keyvault-rbac-assignment-id"].endswith(
        "/providers/Microsoft.Authorization/roleAssignments/a2")
    bundle = set_response.json()
    version = bundle["id"].rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{32}", version)
    assert bundle["id"] == f"{kv.url}/secrets/Alpha/{version}"
    created = bundle["attributes"]["created"]
    assert bundle == {
        "value": "one", "id": f"{kv.url}/secrets/Alpha/{version}", "contentType": "text/plain",
        "attributes": {"enabled": True, "exp": 4102444800, "created": created,
                       "updated": created, "recoveryLevel": "Recoverable+Purgeable",
                       "recoverableDays": 90},
        "tags": {"team": "a"}}
    second = kv.call("PUT", "/secrets/alpha", json={"value": "two"}).json()

    for path in ("/secrets/ALPHA", "/secrets/alpha/"):
        latest = kv.call("GET", path).json()
        assert (latest["value"], latest["id"]) == ("two", second["id"])
    assert kv.call("GET", f"/secrets/alpha/{version}").json()["value"] == "one"

    versions = kv.call("GET", "/secrets/alpha/versions").json()
    assert versions["nextLink"] is None
    assert [item["id"] for item in versions["value"]] == [bundle["id"], second["id"]]
    assert all("value" not in item for item in versions["value"])


def test_list_secrets_pages_with_next_link(kv):
    for name in ("c", "a", "b"):
        assert kv.call("PUT", f"/secrets/{name}", json={"value": name}).status_code == 200
    first = kv.call("GET", "/secrets", params={"maxresults": "2"}).json()
    assert [item["id"] for item in first["value"]] == [f"{kv.url}/secrets/a",
                                                       f"{kv.url}/secrets/b"]
    assert first["nextLink"].startswith(f"{kv.url}/secrets?api-version=7.4&$skiptoken=")
    second = requests.get(first["nextLink"], headers={"Authorization": f"Bearer {kv.token}"},
                          verify=kv.cloud.ca_bundle, timeout=10).json()
    assert [item["id"] for item in second["value"]] == [f"{kv.url}/secrets/c"]
    assert second["nextLink"] is None
    assert _error(kv.call("GET", "/secrets", params={"maxresults": "26"}))[0] == 400


def test_missing_secret_is_secret_not_found(kv):
    assert _error(kv.call("GET", "/secrets/ghost")) == (404, {"error": {
        "code": "SecretNotFound",
        "message": "A secret with (name/id) ghost was not found in this key vault. If you "
                   "recently deleted this secret you may be able to recover it using the correct "
                   "recovery command. For help resolving this issue, please see "
                   "https://go.microsoft.com/fwlink/?linkid=2125182"}})
    missing_version = "0" * 32
    status, body = _error(kv.call("GET", f"/secrets/ghost/{missing_version}"))
    assert status == 404
    assert body["error"]["message"].startswith(
        f"A secret with (name/id) ghost/{missing_version} was not found")


def test_disabled_secret_get_is_forbidden(kv):
    kv.call("PUT", "/secrets/off", json={"value": "x", "attributes": {"enabled": False}})
    assert _error(kv.call("GET", "/secrets/off")) == (403, {"error": {
        "code": "Forbidden", "message": "Operation get is not allowed on a disabled secret.",
        "innererror": {"code": "SecretDisabled"}}})


def test_rbac_deny_body(kv):
    cloud = kv.cloud
    stranger = cloud.seed.app("stranger")
    token = _token(cloud, stranger.client_id, stranger.client_secret)
    response = kv.call("GET", "/secrets/Alpha", token=token)
    vault = kv.vault
    assert _error(response) == (403, {"error": {
        "code": "Forbidden",
        "message": "Caller is not authorized to perform action on resource.\r\n"
                   "If role assignments, deny assignments or role definitions were changed "
                   "recently, please observe propagation time.\r\n"
                   f"Caller: appid={stranger.client_id};oid={stranger.object_id};"
                   f"iss=https://sts.windows.net/{cloud.tenant_id}/\r\n"
                   f"Action: '{GET_SECRET}'\r\n"
                   f"Resource: '{vault['id'].lower()}/secrets/alpha'\r\n"
                   "Assignment: (not found)\r\n"
                   "DenyAssignmentId: null\r\n"
                   "DecisionReason: null\r\n"
                   f"Vault: {vault['name']};location=westeurope\r\n",
        "innererror": {"code": "ForbiddenByRbac"}}})
    assert kv.rbac.calls[-1] == (stranger.object_id, GET_SECRET, vault["id"] + "/secrets/Alpha")
    list_response = kv.call("GET", "/secrets", token=token)
    assert f"Resource: '{vault['id'].lower()}'\r\n" in list_response.json()["error"]["message"]
    assert f"Action: '{READ_METADATA}'" in list_response.json()["error"]["message"]


def test_object_scope_grant(kv):
    cloud = kv.cloud
    reader = cloud.seed.app("reader")
    kv.rbac.grant(reader.object_id, GET_SECRET, kv.vault["id"] + "/secrets/shared")
    token = _token(cloud, reader.client_id, reader.client_secret)
    kv.call("PUT", "/secrets/shared", json={"value": "v1"})
    kv.call("PUT", "/secrets/private", json={"value": "v2"})
    assert kv.call("GET", "/secrets/shared", token=token).json()["value"] == "v1"
    assert kv.call("GET", "/secrets/private", token=token).status_code == 403


def test_access_policy_vault(shared_local_cloud, fake_rbac):
    cloud = shared_local_cloud
    reader, stranger = cloud.seed.app("policy-reader"), cloud.seed.app("policy-stranger")
    vault = cloud.seed.vault("policyvault", rbac=False, access_policies=[{
        "tenantId": cloud.tenant_id, "objectId": reader.object_id,
        "permissions": {"secrets": ["Get", "List", "Set"], "keys": [], "certificates": []}}])
    url = cloud.vault_url("policyvault")

    def call(app, method, path, **kwargs):
        token = _token(cloud, app.client_id, app.client_secret)
        return requests.request(method, url + path, params={"api-version": "7.4"},
                                headers={"Authorization": f"Bearer {token}"},
                                verify=cloud.ca_bundle, timeout=10, **kwargs)

    assert call(reader, "PUT", "/secrets/p", json={"value": "pv"}).status_code == 200
    assert call(reader, "GET", "/secrets/p").json()["value"] == "pv"
    assert fake_rbac.calls == []
    assert _error(call(stranger, "GET", "/secrets/p")) == (403, {"error": {
        "code": "Forbidden",
        "message": "The user, group or application "
                   f"'appid={stranger.client_id};oid={stranger.object_id};"
                   f"iss=https://sts.windows.net/{cloud.tenant_id}/' does not have secrets get "
                   f"permission on key vault '{vault['name']};location=westeurope'. For help "
                   "resolving this issue, please see "
                   "https://go.microsoft.com/fwlink/?linkid=2125287",
        "innererror": {"code": "AccessDenied"}}})


def test_invalid_set_bodies(kv):
    assert kv.call("PUT", "/secrets/bad_name", json={"value": "x"}).status_code == 400
    assert _error(kv.call("PUT", "/secrets/x", json={"contentType": "a"}))[1]["error"][
        "code"] == "BadParameter"
    assert kv.call("PUT", "/secrets/x", json={"value": "x" * 25601}).status_code == 400
