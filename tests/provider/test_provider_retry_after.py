"""A throttled Key Vault answer keeps its Retry-After in the cause text the driver reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from azure.core.exceptions import HttpResponseError

from kvcsi.provider.azure_errors import describe_response_error

RULE = "-" * 80


@dataclass
class _Request:
    method: str = "GET"
    url: str = "https://kv.vault.localhost:8443/secrets/s/?api-version=7.4"


@dataclass
class _Response:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    request: _Request = field(default_factory=_Request)
    body: str = ('{"error":{"code":"Throttled","message":"Request was not processed because '
                 'too many requests were received. Reason: VaultRequestTypeLimitReached"}}')

    def text(self, encoding: str | None = None) -> str:
        return self.body


def _describe(response: _Response) -> str:
    return describe_response_error(HttpResponseError(response=response))  # type: ignore[arg-type]


def test_throttled_answer_names_retry_after() -> None:
    text = _describe(_Response(429, {"Retry-After": "7"}))
    assert text.splitlines()[:4] == [
        "GET https://kv.vault.localhost:8443/secrets/s/", RULE,
        "RESPONSE 429: 429 Too Many Requests", "Retry-After: 7"]
    assert "ERROR CODE: Throttled" in text


def test_retry_after_in_milliseconds_is_converted() -> None:
    assert "Retry-After: 1.5" in _describe(_Response(429, {"retry-after-ms": "1500"}))


def test_no_retry_after_line_without_the_header_or_for_other_statuses() -> None:
    assert "Retry-After" not in _describe(_Response(429))
    assert "Retry-After" not in _describe(_Response(403, {"Retry-After": "7"}))
