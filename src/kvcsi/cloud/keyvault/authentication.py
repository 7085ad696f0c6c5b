"""Who calls Key Vault: the bearer token of a request, validated once and then remembered.

Counterpart of Key Vault's authentication (401 + ``WWW-Authenticate`` challenge). The first
request with a token runs the full check (:meth:`TokenIssuer.validate`: signature, expiry,
audience, issuer); the result is cached under the SHA-256 of the token and the vault's
tenant until the token expires, so later requests with the same token cost one hash and
one dictionary lookup. An expired cached token is refused with the same ``TokenExpired``
text; failures are never cached (they are cheap and rare).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kvcsi.cloud.identity.tokens import TokenIssuer, TokenValidationError, missing_token_error
from kvcsi.cloud.keyvault.errors import Unauthorized

MAX_CACHED_TOKENS = 10_000
TOKEN_EXPIRED = "[TokenExpired] Error validating token: 'S2S12086'."


@dataclass(frozen=True)
class Caller:
    """The identity behind a validated token."""

    object_id: str
    app_id: str
    issuer: str
    tenant_id: str
    group_ids: tuple[str, ...] = ()

    def describe(self) -> str:
        """How Key Vault names a caller in its errors."""
        return f"appid={self.app_id};oid={self.object_id};iss={self.issuer}"


def _caller(claims: dict[str, object]) -> Caller:
    groups = claims.get("groups")
    return Caller(object_id=str(claims.get("oid", "")), app_id=str(claims.get("appid", "")),
                  issuer=str(claims.get("iss", "")), tenant_id=str(claims.get("tid", "")),
                  group_ids=tuple(str(g) for g in groups) if isinstance(groups, list) else ())


class Authenticator:
    """Validates bearer tokens for Key Vault, remembering valid ones until they expire."""

    def __init__(self, issuer: TokenIssuer, audiences: Iterable[str],
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.audiences = list(audiences)
        self._clock = clock
        self._valid: dict[bytes, tuple[Caller, int]] = {}

    def authenticate(self, authorization: str | None, vault_tenant_id: str) -> Caller:
        """The caller of a request from its ``Authorization`` header, or :class:`Unauthorized`."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized(missing_token_error().message)
        cache_key = hashlib.sha256(f"{vault_tenant_id} {token}".encode()).digest()
        cached = self._valid.get(cache_key)
        if cached is not None:
            caller, expires = cached
            if expires > self._clock():
                return caller
            del self._valid[cache_key]
            raise Unauthorized(TOKEN_EXPIRED)
        try:
            claims = self.issuer.validate(token, self.audiences,
                                          expected_tenant_id=vault_tenant_id)
        except TokenValidationError as error:
            raise Unauthorized(error.message) from None
        caller = _caller(claims)
        if len(self._valid) >= MAX_CACHED_TOKENS:
            self._valid.clear()
        self._valid[cache_key] = (caller, int(claims["exp"]))
        return caller
