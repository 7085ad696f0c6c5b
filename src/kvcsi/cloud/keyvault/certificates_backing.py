"""The backing secret and backing key of every certificate version.

Counterpart of Key Vault's managed objects: each certificate version ``{name}/{version}``
has a secret and a key with the same name and version, both ``managed: true``. They are
stored by the secrets and keys modules (their ``store_managed_version``); this module only
decides what goes in them and moves them with the certificate (enable/disable, soft delete,
recover, purge, backup, restore).

Backing secret (what the provider reads): ``contentType`` is the policy's
``secret_props.contentType``; ``kid`` is ``{vault url}/keys/{name}/{version}``; the value is

- ``application/x-pkcs12``: standard base64 of a PFX with no password (MAC with the empty
  password) holding the private key and the whole chain — the leaf first, then the other
  certificates in their order;
- ``application/x-pem-file``: the private key as PKCS#8 ``PRIVATE KEY``, then every
  certificate of the chain as ``CERTIFICATE`` blocks, in chain order (leaf first unless the
  certificate was imported with ``preserveCertOrder``).

A certificate whose policy says ``exportable: false`` gets a backing secret without the
private key (the key stays in the backing key only).
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.keyvault import certificates_formats as formats
from kvcsi.cloud.keyvault.errors import Conflict, ObjectIsDeletedButRecoverable
from kvcsi.cloud.keyvault.keys import KeyRepository
from kvcsi.cloud.keyvault.objects import VersionedObjects
from kvcsi.cloud.keyvault.secrets import SecretRepository

Document = dict[str, Any]


class CertificateBacking:
    """Writes and moves the backing objects of certificate versions."""

    def __init__(self, secrets: SecretRepository, keys: KeyRepository) -> None:
        self.secrets = secrets
        self.keys = keys

    def store(self, vault: str, name: str, version: str, item: formats.CertificateMaterial, *,
              content_type: str, enabled: bool, not_before: int, expires: int,
              exportable: bool, tags: dict[str, str] | None, base_url: str) -> None:
        secret_item = item if exportable else formats.CertificateMaterial(
            None, item.leaf, item.chain)
        self.secrets.store_managed_version(
            vault, name, version, formats.secret_value(secret_item, content_type),
            content_type=content_type, kid=f"{base_url}/keys/{name}/{version}",
            enabled=enabled, not_before=not_before, expires=expires, tags=tags)
        if item.private_key is not None:
            self.keys.store_managed_version(
                vault, name, version, item.private_key, enabled=enabled,
                not_before=not_before, expires=expires, tags=tags, exportable=exportable)

    def check_free(self, vault: str, name: str) -> None:
        """409 when a secret or key that no certificate manages already has this name."""
        for objects in self._each():
            head = objects.store.get(objects.kind, objects.head_key(vault, name))
            if head is None:
                continue
            if "deletedDate" in head:
                raise ObjectIsDeletedButRecoverable(objects.type.label, head["name"])
            if not head["current"].get("managed"):
                raise Conflict(f"A {objects.type.label} named '{head['name']}' already exists "
                               "in this vault and is not managed by a certificate; a "
                               "certificate needs its name for its backing "
                               f"{objects.type.label}.")

    def private_key(self, vault: str, name: str, version: str) -> formats.PrivateKey:
        """The private key of a version's backing key (for ``reuse_key``)."""
        return self.keys.private_key(self.keys.get(vault, name, version))

    def set_enabled(self, vault: str, name: str, version: str, enabled: bool) -> None:
        def change(doc: Document) -> Document:
            doc["enabled"] = enabled
            return doc

        for objects in self._each():
            objects.update_version(vault, name, version, change)

    def _each(self) -> list[VersionedObjects]:
        return [self.secrets.objects, self.keys.objects]

    def delete(self, vault: str, name: str) -> None:
        for objects in self._each():
            if objects.live_head(vault, name) is not None:
                objects.delete(vault, name)

    def recover(self, vault: str, name: str) -> None:
        for objects in self._each():
            if _deleted_head(objects, vault, name) is not None:
                objects.recover(vault, name)

    def purge(self, vault: str, name: str) -> None:
        for objects in self._each():
            if _deleted_head(objects, vault, name) is not None:
                objects.remove_all(vault, name)

    def in_use(self, vault: str, name: str) -> bool:
        """Whether a secret or key (live or deleted) already has this name."""
        return any(_any_head(objects, vault, name) for objects in self._each())

    def export(self, vault: str, name: str) -> Document:
        """Every backing version of a certificate, for its backup blob (values in clear)."""
        secrets = [dict(doc, value=self.secrets.reveal(doc))
                   for doc in self.secrets.versions(vault, name)]
        return {"secrets": secrets, "keys": self.keys.objects.versions(vault, name)}

    def restore(self, vault: str, name: str, exported: Document, base_url: str) -> None:
        secrets = [dict(doc, kid=f"{base_url}/keys/{name}/{doc['version']}")
                   for doc in exported["secrets"]]
        if secrets:
            self.secrets.restore_versions(vault, name, secrets)
        if exported["keys"]:
            self.keys.objects.restore(vault, name, exported["keys"])


def _any_head(objects: VersionedObjects, vault: str, name: str) -> bool:
    return objects.store.get(objects.kind, objects.head_key(vault, name)) is not None


def _deleted_head(objects: VersionedObjects, vault: str, name: str) -> Document | None:
    head = objects.store.get(objects.kind, objects.head_key(vault, name))
    return head if head is not None and "deletedDate" in head else None
