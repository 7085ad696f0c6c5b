"""Client assertions against federated identity credentials: azure-identity and raw HTTP."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, WorkloadIdentityCredential
from cryptography.hazmat.primitives.asymmetric import rsa
from identity_world import WORKLOAD_AUDIENCE, Arm, https, service_account_token

from kvcsi.cloud.aks_oidc.signing_keys import KIND, key_id
from kvcsi.cloud.arm import directory
from kvcsi.cloud.identity.tokens import unverified_claims

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def world(shared_local_cloud):
    arm = Arm(shared_local_cloud)
    group = arm.group("wi-rg")
    cluster = arm.cluster(group, "wi-aks")
    issuer = cluster["properties"]["oidcIssuerProfile"]["issuerURL"]
    identity = arm.identity(group, "workload")
    arm.federate(identity, "apps-reader", issuer, "system:serviceaccount:apps:reader")
    return {"arm": arm, "cluster": cluster, "issuer": issuer, "identity": identity,
            "cloud": shared_local_cloud}


def _post(cloud, tenant: str, **form: str) -> httpx.Response:
    return https(cloud).post(f"{cloud.authority}/{tenant}/oauth2/v2.0/token", data=form)


def _assertion_form(client_id: str, assertion: str, scope: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "scope": scope,
            "client_assertion_type": JWT_BEARER, "client_assertion": assertion}


def test_client_assertion_credential_with_a_service_account_token(world):
    cloud, identity = world["cloud"], world["identity"]
    token = service_account_token(world["arm"], world["cluster"], "apps", "reader")
    credential = ClientAssertionCredential(
        cloud.tenant_id, identity["properties"]["clientId"], lambda: token,
        authority=cloud.authority, disable_instance_discovery=True,
        connection_verify=cloud.ca_bundle)
    claims = unverified_claims(credential.get_token(cloud.keyvault_scope).token)
    assert claims["oid"] == identity["properties"]["principalId"]
    assert claims["appid"] == identity["properties"]["clientId"]
    assert claims["appidacr"] == "2"
    assert claims["xms_mirid"] == identity["id"]
    assert claims["aud"] == cloud.endpoints["keyvault_resource"]


def test_workload_identity_credential_reads_the_token_file(world, tmp_path, monkeypatch):
    cloud, identity = world["cloud"], world["identity"]
    token_file = tmp_path / "token"
    token_file.write_text(service_account_token(world["arm"], world["cluster"], "apps",
                                                "reader"))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", cloud.authority)
    credential = WorkloadIdentityCredential(
        tenant_id=cloud.tenant_id, client_id=identity["properties"]["clientId"],
        token_file_path=str(token_file), disable_instance_discovery=True,
        connection_verify=cloud.ca_bundle)
    claims = unverified_claims(credential.get_token(cloud.keyvault_scope).token)
    assert claims["oid"] == identity["properties"]["principalId"]


def test_wrong_subject_is_aadsts70021(world):
    cloud, identity = world["cloud"], world["identity"]
    token = service_account_token(world["arm"], world["cluster"], "apps", "intruder")
    response = _post(cloud, cloud.tenant_id, **_assertion_form(
        identity["properties"]["clientId"], token, cloud.keyvault_scope))
    assert response.status_code == 400
    body = response.json()
    assert sorted(body) == ["correlation_id", "error", "error_codes", "error_description",
                            "error_uri", "timestamp", "trace_id"]
    assert body["error"] == "invalid_request"
    assert body["error_codes"] == [70021]
    assert body["error_description"].startswith(
        "AADSTS70021: No matching federated identity record found for presented assertion. "
        f"Assertion Issuer: '{world['issuer']}'. Assertion Subject: "
        "'system:serviceaccount:apps:intruder'. Assertion Audience: "
        "'api://AzureADTokenExchange'. https://docs.microsoft.com/en-us/azure/"
        "active-directory/develop/workload-identity-federation Trace ID: ")

    credential = ClientAssertionCredential(
        cloud.tenant_id, identity["properties"]["clientId"], lambda: token,
        authority=cloud.authority, disable_instance_discovery=True,
        connection_verify=cloud.ca_bundle)
    with pytest.raises(ClientAuthenticationError) as raised:
        credential.get_token(cloud.keyvault_scope)
    assert "Assertion Subject: 'system:serviceaccount:apps:intruder'" in str(raised.value)


def _forged(issuer: str, subject: str, *, kid: str, key: rsa.RSAPrivateKey | None = None,
            lifetime: int = 3600) -> str:
    now = int(time.time())
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"iss": issuer, "sub": subject, "aud": [WORKLOAD_AUDIENCE],
                       "iat": now, "nbf": now, "exp": now + lifetime}, key,
                      algorithm="RS256", headers={"kid": kid})


def test_signature_from_another_key_is_refused(world):
    cloud, identity = world["cloud"], world["identity"]
    uid = world["issuer"].rstrip("/").rsplit("/", 1)[1]
    kid = cloud.store.get(KIND, uid)["kid"]
    forged = _forged(world["issuer"], "system:serviceaccount:apps:reader", kid=kid)
    response = _post(cloud, cloud.tenant_id, **_assertion_form(
        identity["properties"]["clientId"], forged, cloud.keyvault_scope))
    assert response.status_code == 401
    body = response.json()
    assert (body["error"], body["error_codes"]) == ("invalid_client", [700027])
    assert body["error_description"].startswith(
        "AADSTS700027: Client assertion failed signature validation. Trace ID: ")


def test_expired_assertion_is_aadsts700024(world):
    cloud, identity = world["cloud"], world["identity"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expired = _forged(world["issuer"], "system:serviceaccount:apps:reader",
                      kid=key_id(key.public_key()), key=key, lifetime=-3600)
    response = _post(cloud, cloud.tenant_id, **_assertion_form(
        identity["properties"]["clientId"], expired, cloud.keyvault_scope))
    assert response.status_code == 401
    body = response.json()
    assert body["error_codes"] == [700024]
    assert body["error_description"].startswith(
        "AADSTS700024: Client assertion is not within its valid time range. Current time: ")


def test_internet_issuer_is_never_fetched(world):
    cloud, arm = world["cloud"], world["arm"]
    identity = arm.identity(arm.group("wi-rg"), "github")
    arm.federate(identity, "github-main", "https://token.actions.githubusercontent.com",
                 "repo:org/repo:ref:refs/heads/main")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assertion = _forged("https://token.actions.githubusercontent.com",
                        "repo:org/repo:ref:refs/heads/main", kid="k1", key=key)
    response = _post(cloud, cloud.tenant_id, **_assertion_form(
        identity["properties"]["clientId"], assertion, cloud.keyvault_scope))
    assert response.status_code == 400
    body = response.json()
    assert body["error_codes"] == [50166]
    assert body["error_description"].startswith(
        "AADSTS50166: Request to External OIDC endpoint failed. Trace ID: ")


def test_malformed_and_wrong_type(world):
    cloud, identity = world["cloud"], world["identity"]
    client_id = identity["properties"]["clientId"]
    malformed = _post(cloud, cloud.tenant_id,
                      **_assertion_form(client_id, "not-a-jwt", cloud.keyvault_scope))
    assert (malformed.status_code, malformed.json()["error_codes"]) == (400, [50027])
    assert malformed.json()["error_description"].startswith(
        "AADSTS50027: JWT token is invalid or malformed. Trace ID: ")
    form = _assertion_form(client_id, "x.y.z", cloud.keyvault_scope)
    del form["client_assertion_type"]
    missing = _post(cloud, cloud.tenant_id, **form)
    assert (missing.status_code, missing.json()["error_codes"]) == (400, [900144])
    assert missing.json()["error_description"].startswith(
        "AADSTS900144: The request body must contain the following parameter: "
        "'client_assertion_type'.")


def test_application_federated_credential_via_graph(world):
    cloud, arm = world["cloud"], world["arm"]
    application = directory.create_application(cloud.store, display_name="wi-app")
    directory.create_service_principal(cloud.store, display_name="wi-app",
                                       tenant_id=cloud.tenant_id, app_id=application["appId"])
    created = arm.call("POST", f"/v1.0/applications/{application['id']}/"
                               "federatedIdentityCredentials", "", {
                           "name": "apps-reader", "issuer": world["issuer"],
                           "subject": "system:serviceaccount:apps:reader",
                           "audiences": [WORKLOAD_AUDIENCE]}, graph=True)
    assert created.status_code == 201
    assert created.json()["@odata.context"] == (
        f"https://graph.microsoft.com/v1.0/$metadata#applications('{application['id']}')/"
        "federatedIdentityCredentials/$entity")
    listed = arm.ok("GET", f"/v1.0/applications(appId='{application['appId']}')/"
                           "federatedIdentityCredentials", graph=True)
    assert [c["name"] for c in listed["value"]] == ["apps-reader"]

    token = service_account_token(arm, world["cluster"], "apps", "reader")
    credential = ClientAssertionCredential(
        cloud.tenant_id, application["appId"], lambda: token, authority=cloud.authority,
        disable_instance_discovery=True, connection_verify=cloud.ca_bundle)
    claims = unverified_claims(credential.get_token(cloud.keyvault_scope).token)
    assert (claims["appid"], claims["appidacr"]) == (application["appId"], "2")
    assert "xms_mirid" not in claims

    deleted = arm.call("DELETE", f"/v1.0/applications/{application['id']}/"
                                 f"federatedIdentityCredentials/{created.json()['id']}", "",
                       graph=True)
    assert deleted.status_code == 204
    response = _post(cloud, cloud.tenant_id, **_assertion_form(
        application["appId"], token, cloud.keyvault_scope))
    assert response.json()["error_codes"] == [70021]


def test_unknown_tenant_and_application_with_assertions(world):
    cloud = world["cloud"]
    token = service_account_token(world["arm"], world["cluster"], "apps", "reader")
    tenant = str(uuid.uuid4())
    response = _post(cloud, tenant, **_assertion_form(
        world["identity"]["properties"]["clientId"], token, cloud.keyvault_scope))
    assert (response.status_code, response.json()["error_codes"]) == (400, [90002])
    assert response.json()["error_description"].startswith(f"AADSTS90002: Tenant '{tenant}' "
                                                            "not found.")
    app_id = str(uuid.uuid4())
    response = _post(cloud, cloud.tenant_id,
                     **_assertion_form(app_id, token, cloud.keyvault_scope))
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")
    assert response.json()["error_codes"] == [700016]
    assert response.json()["error_description"].startswith(
        f"AADSTS700016: Application with identifier '{app_id}' was not found in the "
        f"directory '{cloud.tenant_id}'.")
