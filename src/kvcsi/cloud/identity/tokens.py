"""Access tokens of the local cloud: issuing (as Entra does) and validating (as Key Vault does).

Tokens are v1-shaped RS256 JWTs (contract §3.3): ``iss`` is ``https://sts.windows.net/{tid}/``,
``aud`` is the resource as requested, and ``oid``/``appid``/``appidacr``/``xms_mirid`` say who
the caller is. ``validate`` checks signature, expiry, audience and issuer in that order and
raises :class:`TokenValidationError` carrying the message Key Vault answers with.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt

from kvcsi.cloud.identity.signing import SigningKey, b64url, load_or_create_signing_key
from kvcsi.cloud.store import CloudStore

CLIENT_CREDENTIALS_LIFETIME = 3599
MANAGED_IDENTITY_LIFETIME = 86399
APPIDACR_MANAGED_IDENTITY = "2"
APPIDACR_CLIENT_SECRET = "1"
APPIDACR_CLIENT_ASSERTION = "2"


def issuer_for(tenant_id: str) -> str:
    return f"https://sts.windows.net/{tenant_id}/"


class TokenValidationError(Exception):
    """A bearer token Key Vault would refuse; ``message`` is Key Vault's 401 text."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def missing_token_error() -> TokenValidationError:
    return TokenValidationError("missing", "AKV10000: Request is missing a Bearer or PoP token.")


def _malformed() -> TokenValidationError:
    return TokenValidationError(
        "malformed", "[BearerReadAccessTokenFailed] Error validating token: 'S2S12005'."
    )


class TokenIssuer:
    """Signs tokens with the state directory's key; validates tokens it signed."""

    def __init__(self, store: CloudStore, home: Path | str,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.signing_key: SigningKey = load_or_create_signing_key(home)
        self._clock = clock

    def issue(self, principal: Mapping[str, Any], resource: str, tenant_id: str, *,
              lifetime_seconds: int = CLIENT_CREDENTIALS_LIFETIME,
              appidacr: str | None = None, mirid: str | None = None) -> tuple[str, int]:
        """A token for ``principal`` (a ``principal`` document) to call ``resource``.

        Managed identities get ``appidacr`` "2" and ``xms_mirid`` (``mirid`` or the identity's
        resource id from ``alternativeNames``); applications get "1" (client secret).
        Returns ``(jwt, expires_on)`` with ``expires_on`` in Unix seconds.
        """
        now = int(self._clock())
        expires_on = now + lifetime_seconds
        issuer = issuer_for(tenant_id)
        is_managed = principal.get("servicePrincipalType") == "ManagedIdentity"
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": expires_on,
            "aio": b64url(secrets.token_bytes(24)),
            "appid": principal["appId"],
            "appidacr": appidacr or (
                APPIDACR_MANAGED_IDENTITY if is_managed else APPIDACR_CLIENT_SECRET),
            "idp": issuer,
            "idtyp": "app",
            "oid": principal["id"],
            "rh": "0." + b64url(secrets.token_bytes(32)) + ".",
            "sub": principal["id"],
            "tid": tenant_id,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "1.0",
        }
        if is_managed:
            resource_ids = [name for name in principal.get("alternativeNames", [])
                            if name.lower().startswith("/subscriptions/")]
            claims["xms_mirid"] = mirid or (resource_ids[0] if resource_ids else None)
            if claims["xms_mirid"] is None:
                del claims["xms_mirid"]
        key_id = self.signing_key.key_id
        token = jwt.encode(claims, self.signing_key.private_key, algorithm="RS256",
                           headers={"typ": "JWT", "kid": key_id, "x5t": key_id})
        return token, expires_on

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.signing_key.jwk()]}

    def validate(self, token: str, expected_audiences: Iterable[str], *,
                 expected_tenant_id: str | None = None) -> dict[str, Any]:
        """Claims of a valid token, else :class:`TokenValidationError` with Key Vault's text.

        ``expected_audiences``: first one is the one named in the AKV10022 message.
        ``expected_tenant_id``: the vault's tenant; the token's issuer must be its v1 issuer.
        """
        audiences = list(expected_audiences)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _malformed() from None
        if header.get("kid") != self.signing_key.key_id or header.get("alg") != "RS256":
            encoded_header = token.split(".", 1)[0]
            raise TokenValidationError(
                "unknown-key",
                "AKV10046: Unable to resolve the key used for signature validation. "
                f"EncodedJwtHeader: '{encoded_header}'.",
            )
        try:
            claims = jwt.decode(
                token, self.signing_key.private_key.public_key(), algorithms=["RS256"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                         "verify_aud": False, "verify_iss": False},
            )
        except jwt.PyJWTError:
            raise _malformed() from None
        now = self._clock()
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
            raise TokenValidationError(
                "expired", "[TokenExpired] Error validating token: 'S2S12086'.")
        audience = claims.get("aud")
        if audience not in audiences:
            raise TokenValidationError(
                "audience",
                f"AKV10022: Invalid audience. Expected {audiences[0]}, found: {audience}.",
            )
        if expected_tenant_id is not None:
            expected_issuers = [issuer_for(expected_tenant_id),
                                f"https://login.microsoftonline.com/{expected_tenant_id}/v2.0"]
            if claims.get("iss") not in expected_issuers:
                raise TokenValidationError(
                    "issuer",
                    f"AKV10032: Invalid issuer. Expected one of {', '.join(expected_issuers)}, "
                    f"found {claims.get('iss')}.",
                )
        return claims


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT without any check (for tests and diagnostics only)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
