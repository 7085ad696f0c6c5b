"""Client secrets of applications: how they are stored (salted hashes) and checked.

An ``app-secret`` document is ``{"appId", "secrets": [{"keyId", "salt", "sha256"}]}`` where
``sha256`` is the hex SHA-256 of ``bytes.fromhex(salt) + secret.encode()``; the secret itself
is never stored. The ARM package creates these documents (``hash_client_secret``) when an
application gets a credential; the token endpoint checks them (``client_secret_matches``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from typing import Any


def hash_client_secret(secret: str, key_id: str | None = None) -> dict[str, str]:
    """One entry of ``app-secret.secrets`` for ``secret``."""
    salt = secrets.token_bytes(16)
    return {
        "keyId": key_id or str(uuid.uuid4()),
        "salt": salt.hex(),
        "sha256": hashlib.sha256(salt + secret.encode()).hexdigest(),
    }


def client_secret_matches(app_secret: Mapping[str, Any], secret: str) -> bool:
    """True when ``secret`` is one of the application's current secrets."""
    for entry in app_secret.get("secrets", []):
        try:
            salt = bytes.fromhex(entry["salt"])
        except (KeyError, ValueError):
            continue
        digest = hashlib.sha256(salt + secret.encode()).hexdigest()
        if hmac.compare_digest(digest, str(entry.get("sha256", ""))):
            return True
    return False
