"""Certificates of the local Key Vault in the CloudStore: versions, policy, pending operation.

Counterpart of Key Vault's certificate objects (no HTTP and no key material here: the
backing secret and key live with the secrets and keys, see :mod:`.certificates_backing`).
Versions, soft delete, recover and purge are :class:`~.objects.VersionedObjects` of kind
``kv-certificate``; a version document holds ``{"cer" (base64 DER), "x5t", "nbf", "exp",
"enabled", "contentType", "tags"?, "preserveCertOrder"?}`` besides the common fields. Two
more documents per certificate use the same kind, outside the version list (parent
``{vault}/{name-lower}/~meta``), so purging a vault drops them too:

- ``{vault}/{name-lower}/policy``: ``{"policy", "created", "updated"}``;
- ``{vault}/{name-lower}/pending``: the last create operation (see :mod:`.certificates`).
"""

from __future__ import annotations

import time
from typing import Any

from kvcsi.cloud.keyvault.errors import (
    CertificateNotFound,
    DeletedCertificateNotFound,
    ObjectIsDeletedButRecoverable,
)
from kvcsi.cloud.keyvault.objects import ObjectType, VersionedObjects
from kvcsi.cloud.store import CloudStore

KIND = "kv-certificate"
CERTIFICATE = ObjectType(KIND, "certificate", CertificateNotFound, DeletedCertificateNotFound)
META_SUFFIX = "/~meta"
POLICY = "policy"
PENDING = "pending"
Document = dict[str, Any]


class CertificateStore(VersionedObjects):
    """Certificate versions of every vault, with each certificate's policy and operation."""

    def __init__(self, store: CloudStore) -> None:
        super().__init__(store, CERTIFICATE)

    def _meta_key(self, vault: str, name: str, what: str) -> str:
        return f"{self.head_key(vault, name)}/{what}"

    def _put_meta(self, vault: str, name: str, what: str, doc: Document) -> None:
        self.store.put(self.kind, self._meta_key(vault, name, what), doc,
                       parent=self.head_key(vault, name) + META_SUFFIX)

    def exists(self, vault: str, name: str) -> bool:
        return self.live_head(vault, name) is not None

    def is_deleted(self, vault: str, name: str) -> bool:
        head = self._head(vault, name)
        return head is not None and "deletedDate" in head

    def check_not_deleted(self, vault: str, name: str) -> None:
        """Refuse (409) a new version of a soft-deleted certificate."""
        head = self._head(vault, name)
        if head is not None and "deletedDate" in head:
            raise ObjectIsDeletedButRecoverable(self.type.label, head["name"])

    def stored_name(self, vault: str, name: str) -> str:
        """The case of the first version's name, or ``name`` for a new certificate."""
        head = self._head(vault, name)
        return str(head["name"]) if head else name

    def policy(self, vault: str, name: str) -> Document | None:
        """``{"policy", "created", "updated"}`` of a certificate, or None."""
        return self.store.get(self.kind, self._meta_key(vault, name, POLICY))

    def put_policy(self, vault: str, name: str, policy: Document) -> Document:
        now = int(time.time())
        existing = self.policy(vault, name)
        doc = {"policy": policy, "created": existing["created"] if existing else now,
               "updated": now}
        self._put_meta(vault, name, POLICY, doc)
        return doc

    def operation(self, vault: str, name: str) -> Document | None:
        return self.store.get(self.kind, self._meta_key(vault, name, PENDING))

    def put_operation(self, vault: str, name: str, operation: Document) -> None:
        self._put_meta(vault, name, PENDING, operation)

    def delete_operation(self, vault: str, name: str) -> bool:
        return self.store.delete(self.kind, self._meta_key(vault, name, PENDING))

    def remove_all(self, vault: str, name: str) -> None:
        super().remove_all(vault, name)
        for what in (POLICY, PENDING):
            self.store.delete(self.kind, self._meta_key(vault, name, what))
