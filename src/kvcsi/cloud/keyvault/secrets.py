"""Secrets of the local Key Vault: request validation and storage (no HTTP here).

Counterpart of Key Vault's secret objects. Storage, versions and soft delete come from
:class:`~kvcsi.cloud.keyvault.objects.VersionedObjects` (kind ``kv-secret``); a version
document is ``{"vault", "name", "version", "value" (Fernet token), "enabled", "created",
"updated", "seq", "nbf"?, "exp"?, "contentType"?, "tags"?, "managed"?, "kid"?}``. Values are
stored encrypted (:class:`~kvcsi.cloud.keyvault.cipher.SecretCipher`). Limits (about-secrets
doc): value ≤ 25,600 characters, ``contentType`` ≤ 255, ≤ 15 tags of ≤ 512 characters.

Certificates (another module) keep their backing secret here through
:meth:`SecretRepository.store_managed_version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import (
    BadParameter,
    DeletedSecretNotFound,
    SecretDisabled,
    SecretNotFound,
)
from kvcsi.cloud.keyvault.objects import (
    Document,
    ObjectType,
    VersionedObjects,
    new_version_id,
    now_seconds,
)
from kvcsi.cloud.store import CloudStore

KIND = "kv-secret"
SECRETS = ObjectType(KIND, "secret", SecretNotFound, DeletedSecretNotFound)
MAX_VALUE_LENGTH = 25600
MAX_CONTENT_TYPE_LENGTH = 255
MAX_TAGS = 15
MAX_TAG_LENGTH = 512
REVEALED_CACHE_LIMIT = 10_000


def _optional_int(attributes: dict[str, Any], name: str) -> int | None:
    value = attributes.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadParameter(f"Property {name} has invalid value")
    return value


def parse_content_type(body: dict[str, Any]) -> str | None:
    content_type = body.get("contentType")
    if content_type is not None and (not isinstance(content_type, str)
                                     or len(content_type) > MAX_CONTENT_TYPE_LENGTH):
        raise BadParameter("Property contentType has invalid value")
    return content_type


def parse_tags(body: dict[str, Any]) -> dict[str, str] | None:
    tags = body.get("tags")
    if tags is not None and (not isinstance(tags, dict) or len(tags) > MAX_TAGS or not all(
            isinstance(k, str) and isinstance(v, str)
            and len(k) <= MAX_TAG_LENGTH and len(v) <= MAX_TAG_LENGTH for k, v in tags.items())):
        raise BadParameter("Property tags has invalid value")
    return tags


def parse_attributes(body: dict[str, Any]) -> dict[str, Any]:
    """``enabled``/``nbf``/``exp`` given in ``body["attributes"]`` (only those present)."""
    attributes = body.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise BadParameter("Property attributes has invalid value")
    found: dict[str, Any] = {}
    if attributes.get("enabled") is not None:
        if not isinstance(attributes["enabled"], bool):
            raise BadParameter("Property enabled has invalid value")
        found["enabled"] = attributes["enabled"]
    for name in ("nbf", "exp"):
        if name in attributes:
            found[name] = _optional_int(attributes, name)
    return found


def _apply(doc: Document, changes: dict[str, Any]) -> Document:
    for name, value in changes.items():
        if value is None:
            doc.pop(name, None)
        else:
            doc[name] = value
    return doc


@dataclass(frozen=True)
class SetSecretRequest:
    """The body of ``PUT /secrets/{name}``, validated."""

    value: str
    content_type: str | None
    tags: dict[str, str] | None
    attributes: dict[str, Any]

    @classmethod
    def parse(cls, body: Any) -> SetSecretRequest:
        if not isinstance(body, dict) or not isinstance(body.get("value"), str):
            raise BadParameter("Property value is required and must be a string")
        if len(body["value"]) > MAX_VALUE_LENGTH:
            raise BadParameter("Secret is beyond the maximum permitted length of "
                               f"{MAX_VALUE_LENGTH} characters")
        return cls(value=body["value"], content_type=parse_content_type(body),
                   tags=parse_tags(body), attributes=parse_attributes(body))


@dataclass(frozen=True)
class UpdateSecretRequest:
    """The body of ``PATCH /secrets/{name}/{version}``: only the fields it carries change."""

    changes: dict[str, Any]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> UpdateSecretRequest:
        changes = dict(parse_attributes(body))
        if "contentType" in body:
            changes["contentType"] = parse_content_type(body)
        if "tags" in body:
            changes["tags"] = parse_tags(body)
        return cls(changes)


class SecretRepository:
    """Secret versions of every vault in one CloudStore."""

    def __init__(self, store: CloudStore, cipher: SecretCipher) -> None:
        self.store = store
        self.cipher = cipher
        self.objects = VersionedObjects(store, SECRETS)
        self._revealed: dict[str, str] = {}

    def set(self, vault: str, name: str, request: SetSecretRequest) -> Document:
        fields: Document = {"value": self.cipher.encrypt(request.value), "enabled": True}
        _apply(fields, {"contentType": request.content_type, "tags": request.tags,
                        **request.attributes})
        return self.objects.add_version(vault, name, fields)

    def store_managed_version(self, vault: str, name: str, version: str, value: str, *,
                              content_type: str, kid: str, enabled: bool = True,
                              not_before: int | None = None, expires: int | None = None,
                              tags: dict[str, str] | None = None) -> Document:
        """The backing secret of a certificate version (``managed: true``, same version)."""
        fields: Document = {"value": self.cipher.encrypt(value), "enabled": enabled,
                            "contentType": content_type, "managed": True, "kid": kid}
        _apply(fields, {"nbf": not_before, "exp": expires, "tags": tags})
        return self.objects.add_version(vault, name, fields, version=version)

    def get(self, vault: str, name: str, version: str | None = None) -> Document:
        return self.objects.get(vault, name, version)

    def get_enabled(self, vault: str, name: str, version: str | None = None) -> Document:
        """A version whose value may be read: 403 ``SecretDisabled`` when it is disabled.
        Expired and not-yet-valid versions are returned (``nbf``/``exp`` are informational)."""
        secret = self.objects.get(vault, name, version)
        if not secret["enabled"]:
            raise SecretDisabled("Operation get is not allowed on a disabled secret.")
        return secret

    def update(self, vault: str, name: str, version: str | None,
               request: UpdateSecretRequest) -> Document:
        return self.objects.update_version(vault, name, version,
                                           lambda doc: _apply(doc, request.changes))

    def versions(self, vault: str, name: str) -> list[Document]:
        return self.objects.versions(vault, name)

    def reveal(self, secret: Document) -> str:
        """The value in clear (recent decryptions are remembered in memory, never on disk)."""
        token = secret["value"]
        value = self._revealed.get(token)
        if value is None:
            value = self.cipher.decrypt(token)
            if len(self._revealed) >= REVEALED_CACHE_LIMIT:
                self._revealed.clear()
            self._revealed[token] = value
        return value

    def backup_versions(self, vault: str, name: str) -> tuple[str, list[Document]]:
        """The name and every version (values in clear, for the encrypted blob)."""
        head = self.objects.live_head(vault, name)
        if head is None:
            raise SecretNotFound(name)
        versions = [dict(doc, value=self.reveal(doc)) for doc in self.versions(vault, name)]
        return head["name"], versions

    def restore_versions(self, vault: str, name: str, versions: list[Document]) -> Document:
        stored = [dict(doc, value=self.cipher.encrypt(doc["value"])) for doc in versions]
        return self.objects.restore(vault, name, stored)

    def bulk_load(self, vault: str, values: dict[str, str]) -> None:
        """Store one version of many secrets at once (benchmark setup; no checks)."""
        now, documents = now_seconds(), []
        for index, (name, value) in enumerate(values.items()):
            documents.append({"vault": vault.lower(), "name": name,
                              "version": new_version_id(), "value": self.cipher.encrypt(value),
                              "enabled": True, "created": now, "updated": now,
                              "seq": index})
        self.objects.add_versions_in_bulk(vault, documents)
