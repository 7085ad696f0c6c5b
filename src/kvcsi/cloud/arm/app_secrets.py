"""Client secrets of applications, stored only as salted SHA-256 hashes (kind ``app-secret``).

Document (key = appId): ``{"appId", "secrets": [{"keyId", "salt": hex,
"sha256": hex(sha256(bytes.fromhex(salt) + secret.encode()))}]}``. The token endpoint verifies a
presented ``client_secret`` with :func:`verify_client_secret`; the secret itself is returned
once, at creation, and never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from kvcsi.cloud.store import CloudStore

APP_SECRET = "app-secret"


def _digest(salt_hex: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt_hex) + secret.encode()).hexdigest()


def generate_client_secret() -> str:
    """A secret in the shape Entra hands out: 40 URL-safe characters."""
    return secrets.token_urlsafe(30)[:40]


def add_client_secret(store: CloudStore, app_id: str, *, replace: bool = False) -> tuple[str, str]:
    """Create a client secret for ``app_id``; returns ``(keyId, secret)``.

    ``replace`` drops the earlier secrets (a credential reset).
    """
    secret = generate_client_secret()
    salt = secrets.token_hex(16)
    entry = {"keyId": str(uuid.uuid4()), "salt": salt, "sha256": _digest(salt, secret)}
    with store.transaction():
        document: dict[str, Any] = store.get(APP_SECRET, app_id) or {"appId": app_id,
                                                                      "secrets": []}
        document["secrets"] = ([] if replace else document["secrets"]) + [entry]
        store.put(APP_SECRET, app_id, document)
    return entry["keyId"], secret


def verify_client_secret(store: CloudStore, app_id: str, secret: str) -> bool:
    """True when ``secret`` is one of ``app_id``'s current client secrets."""
    document = store.get(APP_SECRET, app_id)
    if document is None:
        return False
    return any(hmac.compare_digest(entry["sha256"], _digest(entry["salt"], secret))
               for entry in document["secrets"])
