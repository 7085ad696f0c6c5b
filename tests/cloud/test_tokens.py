"""Token issuing (claims of contract §3.3) and Key Vault's token validation texts."""

from __future__ import annotations

import stat

import jwt
import pytest

from kvcsi.cloud.identity.tokens import TokenIssuer, TokenValidationError
from kvcsi.cloud.store import CloudStore

TENANT = "11111111-2222-3333-4444-555555555555"
KV = "https://vault.localhost:8443"
APP = {"id": "oid-app", "appId": "appid-app", "servicePrincipalType": "Application"}
MI = {"id": "oid-mi", "appId": "appid-mi", "servicePrincipalType": "ManagedIdentity",
      "alternativeNames": ["a-name", "/subscriptions/s/resourceGroups/g/providers/"
                           "Microsoft.ManagedIdentity/userAssignedIdentities/mi"]}


@pytest.fixture
def issuer(tmp_path) -> TokenIssuer:
    return TokenIssuer(CloudStore(tmp_path / "cloud" / "state.db"), tmp_path)


def test_signing_key_is_private_and_reused(tmp_path, issuer):
    assert stat.S_IMODE((tmp_path / "cloud" / "signing-key.pem").stat().st_mode) == 0o600
    again = TokenIssuer(issuer.store, tmp_path)
    assert again.signing_key.key_id == issuer.signing_key.key_id


def test_application_token_claims_and_header(issuer):
    token, expires_on = issuer.issue(APP, KV, TENANT)

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": issuer.signing_key.key_id,
                      "x5t": issuer.signing_key.key_id}
    claims = issuer.validate(token, [KV], expected_tenant_id=TENANT)
    assert claims["aud"] == KV
    assert claims["iss"] == claims["idp"] == f"https://sts.windows.net/{TENANT}/"
    assert claims["exp"] == expires_on == claims["iat"] + 3599 == claims["nbf"] + 3599
    assert (claims["oid"], claims["sub"], claims["appid"]) == ("oid-app", "oid-app", "appid-app")
    assert (claims["appidacr"], claims["ver"], claims["idtyp"], claims["tid"]) == (
        "1", "1.0", "app", TENANT)
    assert "xms_mirid" not in claims
    assert claims["uti"] and claims["rh"]


def test_managed_identity_token_carries_mirid(issuer):
    token, _ = issuer.issue(MI, KV, TENANT, lifetime_seconds=86399)
    claims = issuer.validate(token, [KV])
    assert claims["appidacr"] == "2"
    assert claims["xms_mirid"] == MI["alternativeNames"][1]
    token, _ = issuer.issue(MI, KV, TENANT, mirid="/subscriptions/s/vmss")
    assert issuer.validate(token, [KV])["xms_mirid"] == "/subscriptions/s/vmss"


def test_jwks_verifies_issued_tokens(issuer):
    token, _ = issuer.issue(APP, KV, TENANT)
    (jwk,) = issuer.jwks()["keys"]
    assert (jwk["kty"], jwk["use"], jwk["kid"], jwk["x5t"]) == (
        "RSA", "sig", issuer.signing_key.key_id, issuer.signing_key.key_id)
    key = jwt.PyJWK(jwk).key
    assert jwt.decode(token, key, algorithms=["RS256"], audience=KV)["oid"] == "oid-app"


def _reason_and_text(issuer, token, **kwargs) -> tuple[str, str]:
    with pytest.raises(TokenValidationError) as caught:
        issuer.validate(token, [KV, KV + "/"], **kwargs)
    return caught.value.reason, caught.value.message


def test_wrong_audience_is_akv10022(issuer):
    token, _ = issuer.issue(APP, "https://management.localhost:8443/", TENANT)
    assert _reason_and_text(issuer, token) == (
        "audience", "AKV10022: Invalid audience. Expected https://vault.localhost:8443, "
                    "found: https://management.localhost:8443/.")


def test_wrong_issuer_is_akv10032(issuer):
    token, _ = issuer.issue(APP, KV, "99999999-0000-0000-0000-000000000000")
    assert _reason_and_text(issuer, token, expected_tenant_id=TENANT) == (
        "issuer",
        f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{TENANT}/, "
        f"https://login.microsoftonline.com/{TENANT}/v2.0, found "
        "https://sts.windows.net/99999999-0000-0000-0000-000000000000/.")


def test_expired_token(issuer):
    token, _ = issuer.issue(APP, KV, TENANT, lifetime_seconds=-1)
    assert _reason_and_text(issuer, token) == (
        "expired", "[TokenExpired] Error validating token: 'S2S12086'.")


def test_tampered_and_foreign_tokens(issuer, tmp_path):
    token, _ = issuer.issue(APP, KV, TENANT)
    head, payload, signature = token.split(".")
    tampered = ".".join([head, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA"
                                                         else "BBBB")])
    assert _reason_and_text(issuer, tampered) == (
        "malformed", "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'.")
    assert _reason_and_text(issuer, "not-a-jwt")[0] == "malformed"
    other = TokenIssuer(issuer.store, tmp_path / "other-home")
    foreign, _ = other.issue(APP, KV, TENANT)
    assert _reason_and_text(issuer, foreign) == (
        "unknown-key", "AKV10046: Unable to resolve the key used for signature validation. "
                       f"EncodedJwtHeader: '{foreign.split('.')[0]}'.")
