"""Entra's own answer when MSAL could not read a tenant's authority configuration.

For an unknown tenant, MSAL for Python reports only ``Unable to get authority configuration
for https://login.../<tenant>``, dropping what Entra said. This module asks the authority's
OpenID configuration once more and returns Entra's error text (``AADSTS90002: Tenant '...' not
found ...``) without its trace and correlation ids, so the mount error carries the AADSTS code
(case BB-17). One bounded GET, only after such a failure, to the authority already in use.
"""

from __future__ import annotations

import re

import requests

AUTHORITY_FAILURE = re.compile(r"Unable to get authority configuration for (https://\S+?)\.?\s")
TIMEOUT_SECONDS = 5
_TRACE = re.compile(r"\s*Trace ID:.*$", re.DOTALL)


def entra_answer(message: str) -> str | None:
    """Entra's error description for the authority named in an MSAL failure, if any."""
    match = AUTHORITY_FAILURE.search(message + " ")
    if match is None:
        return None
    url = match.group(1).rstrip("/") + "/v2.0/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS)
        body = response.json()
    except (requests.RequestException, ValueError):
        return None
    if response.ok or not isinstance(body, dict):
        return None
    description = body.get("error_description")
    if not isinstance(description, str) or not description:
        return None
    return _TRACE.sub("", description).strip()
