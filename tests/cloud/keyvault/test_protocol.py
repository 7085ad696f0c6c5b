"""Protocol rules shared by every operation: api-version, authentication errors, headers,
throttling, unknown paths."""

from __future__ import annotations

import re

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from kv_support import error_of, fetch_token

from kvcsi.cloud.identity.tokens import TokenIssuer
from kvcsi.cloud.keyvault.authentication import Authenticator
from kvcsi.cloud.keyvault.errors import Unauthorized
from kvcsi.cloud.keyvault.throttle import VaultThrottle, parse_environment, set_vault_throttle

ACCEPTED = ["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.6-preview.2", "7.5-preview.1",
            "2016-10-01", "2025-07-01", "2025-07-01-preview", "2026-04-01"]


@pytest.mark.parametrize("version", ACCEPTED)
def test_accepted_api_versions(kv, version):
    assert kv.call("GET", "/secrets", api_version=version).status_code == 200


@pytest.mark.parametrize("version", ["7.0", "7.4", "7.6", "2025-07-01", "2026-04-01"])
def test_sdk_with_each_api_version(kv, version):
    client = kv.secret_client(api_version=version)
    assert client.set_secret("versioned", version).value == version
    assert client.get_secret("versioned").value == version


@pytest.mark.parametrize("version", ["1999-01-01", "8.0", "7.7", "2026-05-01", "latest"])
def test_unknown_api_version(kv, version):
    assert error_of(kv.call("GET", "/secrets", api_version=version)) == (400, {"error": {
        "code": "BadParameter",
        "message": f"The specified version ({version}) is not recognized. Consider using the "
                   "latest supported version (2026-04-01)."}})


def test_missing_api_version(kv):
    assert error_of(kv.call("GET", "/secrets", api_version=None)) == (400, {"error": {
        "code": "BadParameter",
        "message": "The api-version query parameter (?api-version=) is required for all "
                   "requests."}})


def test_challenge_without_token(kv):
    cloud = kv.cloud
    response = kv.call("PUT", "/secrets/alpha", token=None, headers={"Content-Length": "0"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer authorization="https://localhost:{cloud.https_port}/{cloud.tenant_id}", '
        f'resource="https://vault.localhost:{cloud.https_port}"')
    assert response.json() == {"error": {
        "code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["x-ms-request-id"])


def _unauthorized(kv, token) -> str:
    response = kv.call("GET", "/secrets", token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer authorization="')
    assert response.json()["error"]["code"] == "Unauthorized"
    return response.json()["error"]["message"]


def test_token_refusals(kv, tmp_path):
    cloud = kv.cloud
    arm = cloud.endpoints["resource_manager"]
    assert _unauthorized(kv, fetch_token(cloud, kv.app, resource=arm)) == (
        f"AKV10022: Invalid audience. Expected https://vault.localhost:{cloud.https_port}, "
        f"found: {arm}.")
    issuer: TokenIssuer = cloud.runner.context.issuer
    principal = {"id": kv.app.object_id, "appId": kv.app.client_id}
    other = "99999999-9999-9999-9999-999999999999"
    foreign_tenant, _ = issuer.issue(principal, cloud.endpoints["keyvault_resource"], other)
    assert _unauthorized(kv, foreign_tenant) == (
        f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{cloud.tenant_id}/"
        f", https://login.microsoftonline.com/{cloud.tenant_id}/v2.0, found "
        f"https://sts.windows.net/{other}/.")
    expired, _ = issuer.issue(principal, cloud.endpoints["keyvault_resource"], cloud.tenant_id,
                              lifetime_seconds=-5)
    assert _unauthorized(kv, expired) == "[TokenExpired] Error validating token: 'S2S12086'."
    assert _unauthorized(kv, "garbage") == (
        "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'.")


def test_sdk_sees_authentication_errors(kv):
    app = kv.new_app("wrong-audience")
    from azure.keyvault.secrets import SecretClient

    class ArmTokens:
        def get_token(self, *scopes, **kwargs):
            return kv.credential(app).get_token(kv.cloud.endpoints["resource_manager"] +
                                                ".default")
    client = SecretClient(kv.url, ArmTokens(), connection_verify=kv.cloud.ca_bundle)
    with pytest.raises(ClientAuthenticationError) as refused:
        client.get_secret("x")
    assert refused.value.status_code == 401
    assert refused.value.error.message.startswith("AKV10022: Invalid audience.")


def test_cached_token_still_expires():
    now = [1000.0]

    class Issuer:
        calls = 0

        def validate(self, token, audiences, *, expected_tenant_id=None):
            Issuer.calls += 1
            return {"oid": "o", "appid": "a", "iss": "i", "tid": "t", "exp": 1100}
    authenticator = Authenticator(Issuer(), ["aud"], clock=lambda: now[0])  # type: ignore[arg-type]
    first = authenticator.authenticate("Bearer tok", "t")
    assert authenticator.authenticate("Bearer tok", "t") == first
    assert Issuer.calls == 1
    now[0] = 1100.0
    with pytest.raises(Unauthorized) as expired:
        authenticator.authenticate("Bearer tok", "t")
    assert expired.value.message == "[TokenExpired] Error validating token: 'S2S12086'."
    with pytest.raises(Unauthorized) as missing:
        authenticator.authenticate("Basic abc", "t")
    assert missing.value.message == "AKV10000: Request is missing a Bearer or PoP token."


def test_request_ids(kv):
    one = kv.call("GET", "/secrets", headers={"x-ms-client-request-id": "abc-1"})
    two = kv.call("GET", "/secrets/missing")
    assert one.headers["x-ms-client-request-id"] == "abc-1"
    assert "x-ms-client-request-id" not in two.headers
    assert one.headers["x-ms-request-id"] != two.headers["x-ms-request-id"]
    for header, value in (("expires", "-1"), ("pragma", "no-cache"),
                          ("x-content-type-options", "nosniff"),
                          ("x-ms-keyvault-network-info",
                           "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;")):
        assert two.headers[header] == value


def test_unknown_vault_path_and_method(kv):
    status, body = error_of(kv.call("GET", "/secrets", url=kv.cloud.vault_url("nosuch") +
                                    "/secrets"))
    assert (status, body["error"]["code"]) == (404, "VaultNotFound")
    assert error_of(kv.call("GET", "/frobnicate")) == (404, {"error": {
        "code": "NotFound",
        "message": "The operation GET /frobnicate is not supported by the local Key Vault."}})
    assert error_of(kv.call("POST", "/secrets/x")) == (405, {"error": {
        "code": "BadRequest",
        "message": "The requested resource does not support http method 'POST'."}})


def test_throttle_answers_429_with_retry_after(kv):
    set_vault_throttle(kv.cloud.store, kv.name, 3, 60)
    try:
        assert [kv.call("GET", "/secrets").status_code for _ in range(3)] == [200] * 3
        throttled = kv.call("GET", "/secrets")
        assert error_of(throttled) == (429, {"error": {
            "code": "Throttled",
            "message": "Request was not processed because too many requests were received. "
                       "Reason: VaultRequestTypeLimitReached"}})
        assert 55 <= int(throttled.headers["retry-after"]) <= 60
        client = kv.secret_client(retry_total=0)
        with pytest.raises(HttpResponseError) as refused:
            client.get_secret("x")
        assert (refused.value.status_code, refused.value.error.code) == (429, "Throttled")
    finally:
        set_vault_throttle(kv.cloud.store, kv.name, None)
    assert kv.call("GET", "/secrets").status_code == 200


def test_throttle_window_slides_and_environment_option():
    now = [0.0]

    class Store:
        def data_version(self):
            return 0

        def generation(self, kind):
            return 0

        def get(self, kind, key):
            return None
    throttle = VaultThrottle(Store(), environment="2/10,busy=1/5",  # type: ignore[arg-type]
                             clock=lambda: now[0])
    throttle.admit("quiet")
    throttle.admit("quiet")
    throttle.admit("busy")
    with pytest.raises(Exception) as first:
        throttle.admit("busy")
    assert first.value.retry_after_seconds == 5
    now[0] = 5.0
    throttle.admit("busy")
    now[0] = 9.5
    with pytest.raises(Exception) as second:
        throttle.admit("quiet")
    assert second.value.retry_after_seconds == 1
    now[0] = 10.0
    throttle.admit("quiet")
    assert parse_environment("") == (None, {})


def test_internal_failure_is_a_key_vault_500_without_details(kv, monkeypatch, caplog):
    from kvcsi.cloud.keyvault.secrets import SecretRepository

    def broken(self, vault, name, version=None):
        raise RuntimeError("do-not-leak-this")
    monkeypatch.setattr(SecretRepository, "get_enabled", broken)
    response = kv.call("GET", "/secrets/anything")
    assert error_of(response) == (500, {"error": {
        "code": "InternalServerError",
        "message": "The local Key Vault failed to process the request."}})
    assert "x-ms-request-id" in response.headers
    assert "do-not-leak-this" not in caplog.text
