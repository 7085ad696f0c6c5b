"""The Entra-like token service over HTTPS: azure-identity's ClientSecretCredential, OIDC
discovery, JWKS, and Entra's error answers."""

from __future__ import annotations

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from kvcsi.cloud.identity.tokens import unverified_claims


def _credential(cloud, app, secret=None, tenant=None):
    return ClientSecretCredential(tenant or app.tenant_id, app.client_id,
                                  secret or app.client_secret, authority=cloud.authority,
                                  disable_instance_discovery=True,
                                  connection_verify=cloud.ca_bundle)


def _token_request(cloud, app, **overrides):
    form = {"grant_type": "client_credentials", "client_id": app.client_id,
            "client_secret": app.client_secret, "scope": cloud.keyvault_scope}
    form.update(overrides)
    tenant = form.pop("tenant", app.tenant_id)
    return requests.post(f"{cloud.authority}/{tenant}/oauth2/v2.0/token", data=form,
                         verify=cloud.ca_bundle, timeout=10)


def test_client_secret_credential_gets_a_key_vault_token(shared_local_cloud):
    cloud = shared_local_cloud
    app = cloud.seed.app()

    token = _credential(cloud, app).get_token(cloud.keyvault_scope)

    claims = unverified_claims(token.token)
    assert claims["aud"] == cloud.endpoints["keyvault_resource"]
    assert claims["iss"] == f"https://sts.windows.net/{cloud.tenant_id}/"
    assert (claims["appid"], claims["oid"], claims["appidacr"]) == (
        app.client_id, app.object_id, "1")
    assert 3500 < token.expires_on - claims["iat"] <= 3599


def test_token_response_shape(shared_local_cloud):
    cloud = shared_local_cloud
    response = _token_request(cloud, cloud.seed.app())
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access_token", "expires_in", "ext_expires_in", "token_type"]
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and 3590 <= body["expires_in"] <= 3599


def test_arm_and_graph_resources_are_accepted(shared_local_cloud):
    cloud = shared_local_cloud
    app = cloud.seed.app()
    for resource in (cloud.endpoints["resource_manager"], cloud.endpoints["graph"]):
        response = _token_request(cloud, app, scope=resource + "/.default")
        assert response.status_code == 200, response.text
        assert unverified_claims(response.json()["access_token"])["aud"] == resource
        response = _token_request(cloud, app, scope=resource + ".default")
        assert unverified_claims(response.json()["access_token"])["aud"] == resource[:-1]


def _entra_error(response) -> tuple[int, str, list[int], str]:
    body = response.json()
    assert set(body) == {"error", "error_description", "error_codes", "timestamp", "trace_id",
                         "correlation_id", "error_uri"}
    return (response.status_code, body["error"], body["error_codes"],
            body["error_description"].split(" Trace ID: ")[0])


def test_wrong_secret_is_aadsts7000215(shared_local_cloud):
    cloud = shared_local_cloud
    app = cloud.seed.app()
    assert _entra_error(_token_request(cloud, app, client_secret="wrong")) == (
        401, "invalid_client", [7000215],
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
        "request is the client secret value, not the client secret ID, for a secret added to "
        f"app '{app.client_id}'.")


def test_sdk_reports_wrong_secret(shared_local_cloud):
    cloud = shared_local_cloud
    app = cloud.seed.app()
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        _credential(cloud, app, secret="wrong").get_token(cloud.keyvault_scope)


def test_unknown_application_is_aadsts700016(shared_local_cloud):
    cloud = shared_local_cloud
    app = cloud.seed.app()
    unknown = "00000000-0000-0000-0000-00000000abcd"
    assert _entra_error(_token_request(cloud, app, client_id=unknown)) == (
        400, "unauthorized_client", [700016],
        f"AADSTS700016: Application with identifier '{unknown}' was not found in the directory "
        f"'{cloud.tenant_id}'. This can happen if the application has not been installed by "
        "the administrator of the tenant or consented to by any user in the tenant. You may "
        "have sent your authentication request to the wrong tenant.")


def test_unknown_tenant_is_aadsts90002(shared_local_cloud):
    cloud = shared_local_cloud
    tenant = "00000000-0000-0000-0000-0000000000ff"
    status, error, codes, text = _entra_error(
        _token_request(cloud, cloud.seed.app(), tenant=tenant))
    assert (status, error, codes) == (400, "invalid_request", [90002])
    assert text.startswith(f"AADSTS90002: Tenant '{tenant}' not found.")
    discovery = requests.get(
        f"{cloud.authority}/{tenant}/v2.0/.well-known/openid-configuration",
        verify=cloud.ca_bundle, timeout=10)
    assert _entra_error(discovery)[:3] == (400, "invalid_request", [90002])


def test_unknown_resource_is_aadsts500011(shared_local_cloud):
    cloud = shared_local_cloud
    status, error, codes, text = _entra_error(
        _token_request(cloud, cloud.seed.app(), scope="https://vault.azure.net/.default"))
    assert (status, error, codes) == (400, "invalid_resource", [500011])
    assert text.startswith("AADSTS500011: The resource principal named https://vault.azure.net "
                           f"was not found in the tenant named {cloud.tenant_id}.")


def test_scope_without_default_suffix_is_rejected(shared_local_cloud):
    cloud = shared_local_cloud
    response = _token_request(cloud, cloud.seed.app(),
                              scope=cloud.endpoints["keyvault_resource"])
    assert _entra_error(response)[:3] == (400, "invalid_scope", [1002012])


def test_openid_configuration_and_keys(shared_local_cloud):
    cloud = shared_local_cloud
    tenant = cloud.tenant_id
    document = requests.get(f"{cloud.authority}/{tenant}/v2.0/.well-known/openid-configuration",
                            verify=cloud.ca_bundle, timeout=10).json()
    assert document["token_endpoint"] == f"{cloud.authority}/{tenant}/oauth2/v2.0/token"
    assert document["authorization_endpoint"] == (
        f"{cloud.authority}/{tenant}/oauth2/v2.0/authorize")
    assert document["jwks_uri"] == f"{cloud.authority}/{tenant}/discovery/v2.0/keys"
    assert document["issuer"] == f"{cloud.authority}/{tenant}/v2.0"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]

    app = cloud.seed.app()
    token = _token_request(cloud, app).json()["access_token"]
    for path in (f"/{tenant}/discovery/v2.0/keys", "/common/discovery/keys"):
        keys = requests.get(cloud.authority + path, verify=cloud.ca_bundle, timeout=10).json()
        key = jwt.PyJWK(keys["keys"][0]).key
        claims = jwt.decode(token, key, algorithms=["RS256"],
                            audience=cloud.endpoints["keyvault_resource"])
        assert claims["appid"] == app.client_id


def test_instance_discovery_points_at_the_tenant_document(shared_local_cloud):
    cloud = shared_local_cloud
    response = requests.get(
        f"{cloud.authority}/common/discovery/instance",
        params={"api-version": "1.1",
                "authorization_endpoint": f"{cloud.authority}/abc/oauth2/v2.0/authorize"},
        verify=cloud.ca_bundle, timeout=10)
    host = f"localhost:{cloud.https_port}"
    assert response.json() == {
        "tenant_discovery_endpoint":
            f"{cloud.authority}/abc/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }
