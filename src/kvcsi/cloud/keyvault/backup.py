"""Backup blobs of Key Vault objects: kvcsi's own opaque, versioned, integrity-checked format.

Counterpart of ``POST /{secrets|keys}/{name}/backup`` and ``.../restore``. Real Key Vault
returns ``&AzureKeyVault...BackupV1.microsoft.com`` + a JWE; kvcsi returns, base64url
without padding, ``KVCSI-BACKUP`` + one format-version byte + a Fernet token (AES-128-CBC +
HMAC-SHA256 with the state directory's Key Vault key) of a JSON document ``{"type", "name",
"versions": [...]}``. So a blob restores only into the local cloud that made it (as real
blobs restore only within their geography), cannot be read, and any change is detected.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.fernet import InvalidToken

from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import BadParameter

MAGIC = b"KVCSI-BACKUP"
FORMAT_VERSION = 1
INVALID_BLOB = "Backup blob contains invalid or corrupt data."


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def make_blob(cipher: SecretCipher, object_type: str, name: str,
              versions: list[dict[str, Any]]) -> str:
    payload = json.dumps({"type": object_type, "name": name, "versions": versions},
                         separators=(",", ":"))
    token = cipher.encrypt(payload).encode("ascii")
    return _b64url(MAGIC + bytes([FORMAT_VERSION]) + token)


def read_blob(cipher: SecretCipher, object_type: str, value: Any) -> dict[str, Any]:
    """The document inside a blob made by :func:`make_blob` for ``object_type``, else 400."""
    if not isinstance(value, str) or not value:
        raise BadParameter("Property value is required and must be a base64url string")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise BadParameter(INVALID_BLOB) from None
    if not raw.startswith(MAGIC) or len(raw) <= len(MAGIC):
        raise BadParameter(INVALID_BLOB)
    if raw[len(MAGIC)] != FORMAT_VERSION:
        raise BadParameter(f"Backup blob format version {raw[len(MAGIC)]} is not supported.")
    try:
        document = json.loads(cipher.decrypt(raw[len(MAGIC) + 1:].decode("ascii")))
    except (InvalidToken, UnicodeDecodeError, ValueError):
        raise BadParameter(INVALID_BLOB) from None
    if document.get("type") != object_type or not document.get("versions"):
        raise BadParameter(f"Backup blob does not contain a {object_type}.")
    return document
