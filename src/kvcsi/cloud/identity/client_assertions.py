"""Client assertions (``urn:ietf:params:oauth:client-assertion-type:jwt-bearer``) checked
against federated identity credentials, as Entra's workload identity federation does.

An assertion is accepted for a client when one of the client's federated identity
credentials (on its application, or on its user-assigned identity) has exactly the
assertion's ``iss`` and ``sub`` and one of its ``aud`` values, the assertion is within its
``nbf``/``exp`` window, and its RS256 signature verifies against the issuer's JWKS
(:mod:`kvcsi.cloud.identity.issuer_keys`). Failures raise :class:`EntraError` with
Entra's codes: AADSTS50027 (not a JWT), AADSTS70021 (no matching credential, naming issuer,
subject and audience), AADSTS700024 (time range), AADSTS50166 (issuer keys unavailable),
AADSTS700027 (signature).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import jwt

from kvcsi.cloud.identity import errors
from kvcsi.cloud.identity.issuer_keys import IssuerKeys, IssuerKeysUnavailable

log = logging.getLogger(__name__)
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW_SECONDS = 300


def _audiences(claims: dict[str, Any]) -> list[str]:
    audience = claims.get("aud")
    if isinstance(audience, str):
        return [audience]
    if isinstance(audience, list):
        return [str(a) for a in audience]
    return []


def _stamp(seconds: Any) -> str:
    try:
        moment = datetime.fromtimestamp(float(seconds), UTC)
    except (TypeError, ValueError, OverflowError):
        moment = datetime.fromtimestamp(0, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def matching_credential(credentials: Iterable[dict[str, Any]], issuer: str, subject: str,
                        audiences: list[str]) -> dict[str, Any] | None:
    """The credential with exactly this issuer and subject and one of these audiences."""
    for credential in credentials:
        if credential.get("issuer") == issuer and credential.get("subject") == subject \
                and any(a in audiences for a in credential.get("audiences") or []):
            return credential
    return None


def verify_client_assertion(assertion: str, credentials: Iterable[dict[str, Any]],
                            issuer_keys: IssuerKeys,
                            clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """The assertion's claims when it matches a credential and verifies; else EntraError."""
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise errors.malformed_assertion() from None
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    audiences = _audiences(claims)
    if matching_credential(credentials, issuer, subject, audiences) is None:
        raise errors.no_federated_credential(issuer, subject, ",".join(audiences))
    now = clock()
    expires, not_before = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
    if not isinstance(expires, (int, float)) or expires + CLOCK_SKEW_SECONDS < now \
            or (isinstance(not_before, (int, float)) and not_before - CLOCK_SKEW_SECONDS > now):
        raise errors.assertion_time_range(_stamp(now), _stamp(not_before), _stamp(expires))
    try:
        jwks = issuer_keys.jwks(issuer)
    except IssuerKeysUnavailable as failure:
        log.info("issuer keys unavailable for a client assertion: %s", failure)
        raise errors.external_oidc_failed() from None
    if header.get("alg") != "RS256":
        raise errors.assertion_signature_invalid()
    for entry in jwks.get("keys") or []:
        if header.get("kid") and entry.get("kid") != header.get("kid"):
            continue
        try:
            key = jwt.PyJWK(entry, algorithm="RS256").key
            jwt.decode(assertion, key, algorithms=["RS256"],
                       options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                "verify_aud": False, "verify_iss": False})
        except jwt.PyJWTError:
            continue
        return claims
    raise errors.assertion_signature_invalid()
