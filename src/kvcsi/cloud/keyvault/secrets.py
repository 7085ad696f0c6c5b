"""Secrets of the local Key Vault: versions, attributes and their storage (no HTTP here).

Counterpart of Key Vault's secret objects. Each version is one ``kv-secret`` document keyed
``{vault}/{name-lower}/{version}`` with parent ``{vault}/{name-lower}`` and ``seq`` = creation
time in microseconds, so the latest version is the last child. Names are case-insensitive
(the case of the first set is kept); versions are 32 lowercase hex digits; the value is
stored encrypted (:class:`~kvcsi.cloud.keyvault.cipher.SecretCipher`).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import BadParameter, SecretNotFound
from kvcsi.cloud.store import CloudStore

KIND = "kv-secret"
NAME_PATTERN = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
MAX_VALUE_LENGTH = 25600
MAX_CONTENT_TYPE_LENGTH = 255
MAX_TAGS = 15
MAX_TAG_LENGTH = 512


@dataclass(frozen=True)
class SecretVersion:
    """One stored version (value still encrypted)."""

    vault: str
    name: str
    version: str
    encrypted_value: str
    enabled: bool
    created: int
    updated: int
    not_before: int | None = None
    expires: int | None = None
    content_type: str | None = None
    tags: dict[str, str] | None = field(default=None)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> SecretVersion:
        return cls(vault=doc["vault"], name=doc["name"], version=doc["version"],
                   encrypted_value=doc["value"], enabled=doc["enabled"],
                   created=doc["created"], updated=doc["updated"], not_before=doc.get("nbf"),
                   expires=doc.get("exp"), content_type=doc.get("contentType"),
                   tags=doc.get("tags"))

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "vault": self.vault, "name": self.name, "version": self.version,
            "value": self.encrypted_value, "enabled": self.enabled,
            "created": self.created, "updated": self.updated,
        }
        optional = {"nbf": self.not_before, "exp": self.expires,
                    "contentType": self.content_type, "tags": self.tags}
        doc.update({key: value for key, value in optional.items() if value is not None})
        return doc


def _optional_int(attributes: dict[str, Any], name: str) -> int | None:
    value = attributes.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadParameter(f"Property {name} has invalid value")
    return value


def check_secret_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise BadParameter(f"Secret name '{name}' is invalid. A secret name must be 1-127 "
                           "characters long and contain only 0-9, a-z, A-Z and -.")


@dataclass(frozen=True)
class SetSecretRequest:
    """The body of ``PUT /secrets/{name}``, validated."""

    value: str
    content_type: str | None
    tags: dict[str, str] | None
    enabled: bool
    not_before: int | None
    expires: int | None

    @classmethod
    def parse(cls, body: Any) -> SetSecretRequest:
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            raise BadParameter("Property value is required and must be a string")
        value = body["value"]
        if len(value) > MAX_VALUE_LENGTH:
            raise BadParameter("Secret is beyond the maximum permitted length of "
                               f"{MAX_VALUE_LENGTH} characters")
        content_type = body.get("contentType")
        if content_type is not None and (not isinstance(content_type, str)
                                         or len(content_type) > MAX_CONTENT_TYPE_LENGTH):
            raise BadParameter("Property contentType has invalid value")
        tags = body.get("tags")
        if tags is not None:
            if not isinstance(tags, dict) or len(tags) > MAX_TAGS or not all(
                isinstance(k, str) and isinstance(v, str)
                and len(k) <= MAX_TAG_LENGTH and len(v) <= MAX_TAG_LENGTH
                for k, v in tags.items()
            ):
                raise BadParameter("Property tags has invalid value")
        attributes = body.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise BadParameter("Property attributes has invalid value")
        enabled = attributes.get("enabled", True)
        if not isinstance(enabled, bool):
            raise BadParameter("Property enabled has invalid value")
        return cls(value=value, content_type=content_type, tags=tags, enabled=enabled,
                   not_before=_optional_int(attributes, "nbf"),
                   expires=_optional_int(attributes, "exp"))


class SecretRepository:
    """Secret versions of every vault in one CloudStore."""

    def __init__(self, store: CloudStore, cipher: SecretCipher) -> None:
        self.store = store
        self.cipher = cipher

    @staticmethod
    def _parent(vault: str, name: str) -> str:
        return f"{vault.lower()}/{name.lower()}"

    def set(self, vault: str, name: str, request: SetSecretRequest) -> SecretVersion:
        check_secret_name(name)
        now = int(time.time())
        parent = self._parent(vault, name)
        with self.store.transaction():
            existing = self.store.children(KIND, parent)
            stored_name = existing[0]["name"] if existing else name
            secret = SecretVersion(
                vault=vault.lower(), name=stored_name, version=uuid.uuid4().hex,
                encrypted_value=self.cipher.encrypt(request.value), enabled=request.enabled,
                created=now, updated=now, not_before=request.not_before,
                expires=request.expires, content_type=request.content_type, tags=request.tags,
            )
            self.store.put(KIND, f"{parent}/{secret.version}", secret.to_document(),
                           parent=parent, seq=time.time_ns() // 1000)
        return secret

    def versions(self, vault: str, name: str) -> list[SecretVersion]:
        """Every version of a secret, oldest first (empty when it does not exist)."""
        return [SecretVersion.from_document(doc)
                for doc in self.store.children(KIND, self._parent(vault, name))]

    def get(self, vault: str, name: str, version: str | None = None) -> SecretVersion:
        if version:
            doc = self.store.get(KIND, f"{self._parent(vault, name)}/{version.lower()}")
            if doc is None:
                raise SecretNotFound(name, version)
            return SecretVersion.from_document(doc)
        versions = self.versions(vault, name)
        if not versions:
            raise SecretNotFound(name)
        return versions[-1]

    def latest_of_each(self, vault: str) -> list[SecretVersion]:
        """The latest version of every secret of a vault, ordered by lower-cased name."""
        documents = self.store.scan(KIND, f"{vault.lower()}/")
        names = sorted({doc["name"].lower() for doc in documents})
        return [self.versions(vault, name)[-1] for name in names]

    def reveal(self, secret: SecretVersion) -> str:
        return self.cipher.decrypt(secret.encrypted_value)
