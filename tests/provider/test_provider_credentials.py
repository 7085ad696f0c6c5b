"""Credential and token caching per identity."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

from azure.core.credentials import AccessToken

from kvcsi.provider.auth import (
    KIND_MANAGED_IDENTITY,
    KIND_SERVICE_PRINCIPAL,
    KIND_WORKLOAD_IDENTITY,
    AuthConfig,
)
from kvcsi.provider.clouds import BUILTIN_CLOUDS
from kvcsi.provider.credentials import (
    REFRESH_MARGIN_SECONDS,
    CachedTokenCredential,
    CredentialCache,
    identity_key,
    service_account_subject,
)

PUBLIC = BUILTIN_CLOUDS["AZUREPUBLICCLOUD"]


class CountingCredential:
    def __init__(self, lifetime: float = 3600) -> None:
        self.calls: list[tuple[tuple[str, ...], Any]] = []
        self.lifetime = lifetime

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append((scopes, kwargs.get("claims")))
        time.sleep(0.01)
        return AccessToken(f"token-{len(self.calls)}", int(time.time() + self.lifetime))


def test_one_request_per_scope_until_shortly_before_expiry() -> None:
    inner = CountingCredential()
    now = [time.time()]
    cached = CachedTokenCredential(inner, clock=lambda: now[0])
    first = cached.get_token("https://vault.azure.net/.default")
    assert cached.get_token("https://vault.azure.net/.default") is first
    cached.get_token("https://management.azure.com/.default")
    assert len(inner.calls) == 2
    now[0] += inner.lifetime - REFRESH_MARGIN_SECONDS + 1
    assert cached.get_token("https://vault.azure.net/.default").token == "token-3"
    assert cached.requests == 3


def test_concurrent_callers_share_one_request() -> None:
    inner = CountingCredential()
    cached = CachedTokenCredential(inner)
    threads = [threading.Thread(target=cached.get_token, args=("scope/.default",))
               for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(inner.calls) == 1


def test_claims_challenges_bypass_the_cache() -> None:
    inner = CountingCredential()
    cached = CachedTokenCredential(inner)
    cached.get_token("s/.default")
    cached.get_token("s/.default", claims='{"access_token":{}}')
    assert [claims for _, claims in inner.calls] == [None, '{"access_token":{}}']


def jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256'})}.{part(claims)}.sig"


def test_identity_keys() -> None:
    mi = AuthConfig(KIND_MANAGED_IDENTITY, "t", client_id="c")
    assert identity_key(mi, PUBLIC) == (KIND_MANAGED_IDENTITY, "c")
    sp = AuthConfig(KIND_SERVICE_PRINCIPAL, "t", client_id="c", client_secret="pw")
    assert "pw" not in repr(identity_key(sp, PUBLIC)) and "pw" not in repr(sp)
    token_a = jwt({"sub": "system:serviceaccount:myns:app", "jti": "1"})
    token_b = jwt({"sub": "system:serviceaccount:myns:app", "jti": "2"})
    token_c = jwt({"sub": "system:serviceaccount:other:app", "jti": "3"})
    wi = [AuthConfig(KIND_WORKLOAD_IDENTITY, "t", client_id="c", assertion=token)
          for token in (token_a, token_b, token_c)]
    keys = [identity_key(auth, PUBLIC) for auth in wi]
    assert keys[0] == keys[1] != keys[2]
    assert service_account_subject("not-a-jwt") != "not-a-jwt"


def test_cache_reuses_the_credential_and_presents_the_newest_assertion() -> None:
    cache = CredentialCache()
    first = AuthConfig(KIND_WORKLOAD_IDENTITY, "t", client_id="c",
                       assertion=jwt({"sub": "system:serviceaccount:ns:sa", "jti": "1"}))
    newer = AuthConfig(KIND_WORKLOAD_IDENTITY, "t", client_id="c",
                       assertion=jwt({"sub": "system:serviceaccount:ns:sa", "jti": "2"}))
    credential = cache.get(first, PUBLIC)
    assert cache.get(newer, PUBLIC) is credential
    key = identity_key(newer, PUBLIC)
    assert cache._assertions[key]() == newer.assertion
    assert cache.token_requests() == 0


def test_http_session_is_lean_without_proxy_and_requests_with_one(monkeypatch: Any) -> None:
    import requests

    from kvcsi.provider.http_session import LeanSession
    from kvcsi.provider.keyvault import _session
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/kvcsi-test-ca.pem")
    session, verify = _session()
    assert isinstance(session, LeanSession) and verify == "/etc/kvcsi-test-ca.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    session, verify = _session()
    assert isinstance(session, requests.Session) and verify is True
