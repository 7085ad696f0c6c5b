"""Turn Azure SDK exceptions into error texts that carry the real cause, safely.

Upstream counterpart: the error texts of Go's azcore/azidentity as users see them in pod
events. A Key Vault (or other HTTP) error response reads, as azcore's ``ResponseError`` does::

    GET https://myvault.vault.azure.net/secrets/db-password/
    --------------------------------------------------------------------------------
    RESPONSE 403: 403 Forbidden
    ERROR CODE: Forbidden
    --------------------------------------------------------------------------------
    {"error": {"code": "Forbidden", "message": "...", "innererror": {"code": "ForbiddenByRbac"}}}
    --------------------------------------------------------------------------------

Credential failures (IMDS, Entra) keep azure-identity's message, which includes the service's
error description (``Identity not found``, ``Multiple user assigned identities exist ...``).
Connection failures name the host and the reason (name resolution, refused, TLS).

Texts never carry a token, a client secret or a secret value: only error responses are
quoted, their size is capped, and anything that looks like a bearer token or JWT is masked.
"""

from __future__ import annotations

import json
import os
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

RULE = "-" * 80
MAX_BODY_CHARS = 2000
IMDS_DEFAULT_HOST = "http://169.254.169.254"

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{20,}")
_IMDS_ANSWER = re.compile(r"IMDS endpoint\.\s*Token request error:\s*(.+)", re.DOTALL)
_OBJECT_AT = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>:?\s*")


def redact(text: str) -> str:
    """Mask JWTs and bearer credentials in ``text``."""
    return _BEARER.sub(r"\1<redacted>", _JWT.sub("<redacted-token>", text))


def _url_without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _response_body(error: HttpResponseError) -> str:
    try:
        body = error.response.text() if error.response is not None else ""
    except Exception:  # noqa: BLE001 - a body we cannot read is simply left out
        body = ""
    if not body:
        return ""
    try:
        body = json.dumps(json.loads(body), indent=2)
    except ValueError:
        pass
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS] + "..."
    return body


def _error_code(error: HttpResponseError) -> str:
    if error.error is not None and error.error.code:
        return str(error.error.code)
    if error.response is not None:
        code = error.response.headers.get("x-ms-error-code")
        if code:
            return str(code)
    return ""


def describe_response_error(error: HttpResponseError) -> str:
    """azcore-style text for an HTTP error response (method, URL, status, code, body)."""
    response = error.response
    if response is None:
        return redact(error.message or str(error))
    request = response.request
    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = response.reason or ""
    lines = [f"{request.method} {_url_without_query(request.url)}", RULE,
             f"RESPONSE {status}: {status} {phrase}".rstrip()]
    retry_after = _retry_after(response) if status in (429, 503) else None
    if retry_after is not None:
        # The driver reads this line to back off as long as the service asked.
        lines.append(f"Retry-After: {retry_after}")
    code = _error_code(error)
    lines.append(f"ERROR CODE: {code}" if code else "ERROR CODE UNAVAILABLE")
    lines.append(RULE)
    body = _response_body(error)
    lines.append(body if body else "Response contained no body")
    lines.append(RULE)
    return redact("\n".join(lines))


def _retry_after(response: Any) -> str | None:
    headers = getattr(response, "headers", None) or {}
    for name in ("Retry-After", "retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / (1000.0 if name.endswith("-ms") else 1.0)
        except ValueError:
            return None
        return f"{seconds:g}"
    return None


def _root_cause(error: BaseException) -> BaseException:
    seen: set[int] = set()
    while error.__cause__ is not None and id(error) not in seen:
        seen.add(id(error))
        error = error.__cause__
    return error


def _connection_reason(error: AzureError) -> str:
    text = str(error.message or error)
    inner = getattr(error, "inner_exception", None)
    if inner is not None:
        text = str(inner)
    text = _OBJECT_AT.sub("", text)
    match = re.search(r"Failed to resolve '([^']+)'", text)
    if match:
        return f"failed to resolve host {match.group(1)}: name or service not known"
    if "Connection refused" in text:
        return "connection refused"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        detail = re.search(r"certificate verify failed: ([^(\)\"']+)", text)
        return "TLS certificate verification failed" + (
            f": {detail.group(1).strip()}" if detail else "")
    if "timed out" in text.lower():
        return "timed out"
    return text


def describe_connection_error(error: AzureError, url: str = "") -> str:
    """Which host could not be reached, and why."""
    if not _looks_like_network_failure(error):
        return redact(error.message or str(error))
    reason = _connection_reason(error)
    host = urlsplit(url).netloc if url else ""
    if not host:
        match = re.search(r"host='([^']+)', port=(\d+)", str(error))
        if match:
            host = f"{match.group(1)}:{match.group(2)}"
    target = f" {host}" if host else ""
    return redact(f"failed to connect to{target}: {reason}")


def _looks_like_network_failure(error: AzureError) -> bool:
    inner = getattr(error, "inner_exception", None)
    return isinstance(inner, OSError) or any(
        marker in str(error) for marker in ("Connection", "connect", "resolve", "timed out",
                                            "SSL", "certificate", "Max retries"))


def _imds_host() -> str:
    return os.environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", IMDS_DEFAULT_HOST).rstrip("/")


def describe_credential_error(error: ClientAuthenticationError) -> str:
    """azure-identity's message, plus the IMDS address or network cause when it helps."""
    message = (error.message or str(error)).strip()
    answered = _IMDS_ANSWER.search(message)
    if answered:
        # IMDS did answer; azure-identity's "no response" wording would mislead.
        return redact(f"ManagedIdentityCredential authentication failed: IMDS endpoint "
                      f"{_imds_host()} answered: {answered.group(1).strip()}")
    if "no response from the IMDS endpoint" in message:
        message = message.replace("no response from the IMDS endpoint.",
                                  f"no response from the IMDS endpoint {_imds_host()}", 1)
        root = _root_cause(error)
        if root is not error:
            reason = _connection_reason(root) if isinstance(root, AzureError) \
                else _OBJECT_AT.sub("", str(root))
            if reason:
                message = f"{message.rstrip(' .')}: {reason}"
    return redact(message)


def describe_azure_error(error: AzureError, url: str = "") -> str:
    """The best safe description of any azure-core / azure-identity exception."""
    if isinstance(error, ClientAuthenticationError) and (
            error.response is None or _is_credential_failure(error)):
        return describe_credential_error(error)
    if isinstance(error, HttpResponseError) and error.response is not None:
        return describe_response_error(error)
    if isinstance(error, (ServiceRequestError, ServiceResponseError)):
        return describe_connection_error(error, url)
    return redact(error.message or str(error))


def _is_credential_failure(error: ClientAuthenticationError) -> bool:
    """True when the failing response came from a token service, not the resource."""
    message = error.message or ""
    return "Credential" in message or "AADSTS" in message or "IMDS" in message
