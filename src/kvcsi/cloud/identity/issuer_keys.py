"""The signing keys of an external token issuer, as Entra finds them for a client assertion.

Entra reads ``{issuer}/.well-known/openid-configuration`` and then its ``jwks_uri``. Here:

- an issuer under this cloud's own authority (``https://localhost:{port}/oidc/...``, the
  local AKS clusters) is resolved in-process from the cloud's state — no request is made;
- an issuer on a loopback host (``localhost``, ``*.localhost``, 127.0.0.0/8, ::1) is fetched
  over HTTPS, trusting the local CA, with a short timeout;
- any other issuer is refused without a request (the local cloud never calls the internet),
  which Entra reports as ``AADSTS50166``.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from kvcsi.cloud.aks_oidc.signing_keys import signer_for_issuer
from kvcsi.cloud.store import CloudStore
from kvcsi.netrules import is_local_name, is_loopback_address

log = logging.getLogger(__name__)
FETCH_TIMEOUT_SECONDS = 5.0


class IssuerKeysUnavailable(Exception):
    """The issuer's JWKS could not be obtained (the reason is for logs only)."""


def _is_loopback_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return is_local_name(host) or is_loopback_address(host)


def fetch_remote_jwks(issuer: str, ca_bundle: Path | str | None) -> dict[str, Any]:
    """OIDC discovery then JWKS over HTTPS, loopback hosts only."""
    discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    if not _is_loopback_host(discovery_url):
        raise IssuerKeysUnavailable(f"issuer host is not local: {urlsplit(issuer).hostname}")
    verify: Any = ssl.create_default_context(cafile=str(ca_bundle)) if ca_bundle else True
    try:
        with httpx.Client(verify=verify, timeout=FETCH_TIMEOUT_SECONDS) as client:
            discovery = client.get(discovery_url)
            discovery.raise_for_status()
            jwks_uri = str(discovery.json().get("jwks_uri", ""))
            if not jwks_uri.startswith("https://") or not _is_loopback_host(jwks_uri):
                raise IssuerKeysUnavailable("jwks_uri missing, not https or not local")
            keys = client.get(jwks_uri)
            keys.raise_for_status()
            return keys.json()
    except (httpx.HTTPError, ValueError) as error:
        raise IssuerKeysUnavailable(f"{type(error).__name__}") from None


class IssuerKeys:
    """Finds the JWKS of an issuer named in a client assertion."""

    def __init__(self, store: CloudStore, authority: str, ca_bundle: Path | str | None,
                 fetch: Callable[[str, Path | str | None], dict[str, Any]] = fetch_remote_jwks
                 ) -> None:
        self.store = store
        self.authority = authority
        self.ca_bundle = ca_bundle
        self._fetch = fetch

    def jwks(self, issuer: str) -> dict[str, Any]:
        if issuer.lower().startswith(self.authority.lower()):
            signer = signer_for_issuer(self.store, issuer)
            if signer is None:
                raise IssuerKeysUnavailable("no local issuer at this address")
            return signer.jwks()
        return self._fetch(issuer, self.ca_bundle)
