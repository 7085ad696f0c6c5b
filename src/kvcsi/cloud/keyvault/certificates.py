"""Key Vault certificate operations (no HTTP): create, import, merge, update, soft delete,
backup and restore, each keeping the certificate, its policy and its backing objects in step.

Counterpart of Key Vault's certificate service. A version is made in one go: the X.509
(self-signed for issuer ``Self``, from the import, or merged for issuer ``Unknown``), the
``kv-certificate`` version, and the backing secret and key under the same name and version
(:mod:`.certificates_backing`). Creating with ``Self`` completes at once, so the create
answer already carries ``status: completed`` and the SDK's poller never sleeps; ``Unknown``
leaves a pending operation with a CSR until ``pending/merge`` or ``DELETE pending``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kvcsi.cloud.keyvault import backup
from kvcsi.cloud.keyvault import certificates_formats as formats
from kvcsi.cloud.keyvault import certificates_policy as policies
from kvcsi.cloud.keyvault import certificates_x509 as issuance
from kvcsi.cloud.keyvault.certificates_backing import CertificateBacking
from kvcsi.cloud.keyvault.certificates_bundles import IN_PROGRESS_DETAILS
from kvcsi.cloud.keyvault.certificates_store import CertificateStore
from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import BadParameter, CertificateNotFound, Conflict
from kvcsi.cloud.keyvault.objects import new_version_id

Document = dict[str, Any]
BACKUP_TYPE = "certificate"


@dataclass(frozen=True)
class NewVersionOptions:
    """The parts of a create/import/merge body that apply to the new version."""

    enabled: bool
    tags: dict[str, str] | None
    preserve_order: bool

    @classmethod
    def parse(cls, body: Document) -> NewVersionOptions:
        attributes = body.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise BadParameter("Property attributes has invalid value")
        enabled = attributes.get("enabled", True)
        tags = body.get("tags")
        preserve = body.get("preserveCertOrder", False)
        if not isinstance(enabled, bool) or not isinstance(preserve, bool) or (
                tags is not None and not (isinstance(tags, dict) and all(
                    isinstance(k, str) and isinstance(v, str) for k, v in tags.items()))):
            raise BadParameter("Property attributes, tags or preserveCertOrder has invalid "
                               "value")
        return cls(enabled=enabled, tags=tags, preserve_order=preserve)


def _epoch(moment: Any) -> int:
    return int(moment.timestamp())


class CertificateService:
    """Every certificate operation of every vault in one store."""

    def __init__(self, certificates: CertificateStore, backing: CertificateBacking,
                 cipher: SecretCipher) -> None:
        self.certificates = certificates
        self.backing = backing
        self.cipher = cipher

    # -- new versions -----------------------------------------------------------------
    def _check_writable(self, vault: str, name: str) -> None:
        self.certificates.check_name(name)
        self.certificates.check_not_deleted(vault, name)

    def _add_version(self, vault: str, name: str, item: formats.CertificateMaterial,
                     policy: Document, options: NewVersionOptions, base_url: str) -> Document:
        leaf = item.leaf
        content_type = policies.content_type(policy)
        version = new_version_id()
        fields: Document = {
            "cer": formats.cer(leaf), "x5t": formats.x5t(leaf),
            "nbf": _epoch(leaf.not_valid_before_utc), "exp": _epoch(leaf.not_valid_after_utc),
            "enabled": options.enabled, "contentType": content_type,
            "preserveCertOrder": options.preserve_order,
        }
        if options.tags is not None:
            fields["tags"] = options.tags
        with self.certificates.store.transaction():  # all or nothing
            self.backing.check_free(vault, name)
            doc = self.certificates.add_version(vault, name, fields, version=version)
            self.backing.store(vault, doc["name"], doc["version"], item,
                               content_type=content_type, enabled=options.enabled,
                               not_before=fields["nbf"], expires=fields["exp"],
                               exportable=policies.key_spec(policy).exportable,
                               tags=options.tags, base_url=base_url)
            self.certificates.put_policy(vault, doc["name"], policy)
        return doc

    def _reusable_key(self, vault: str, name: str,
                      spec: policies.KeySpec) -> formats.PrivateKey | None:
        if not spec.reuse_key or not self.certificates.exists(vault, name):
            return None
        latest = self.certificates.get(vault, name)
        return self.backing.private_key(vault, latest["name"], latest["version"])

    def create(self, vault: str, name: str, body: Document, base_url: str) -> Document:
        """Run ``POST /certificates/{name}/create``; returns the operation document."""
        self._check_writable(vault, name)
        options = NewVersionOptions.parse(body)
        if body.get("policy") is None:
            existing = self.certificates.policy(vault, name)
            if existing is None:
                raise BadParameter("Property policy is required for a new certificate.")
            policy = existing["policy"]
        else:
            policy = policies.parse_policy(body["policy"])
        spec = policies.key_spec(policy)
        key = self._reusable_key(vault, name, spec) or issuance.generate_key(spec)
        issuer = policies.issuer_name(policy)
        operation: Document = {
            "name": self.certificates.stored_name(vault, name),
            "issuer": issuer, "requestId": uuid.uuid4().hex,
            "csr": base64.b64encode(issuance.csr_der(policy, key)).decode("ascii"),
            "preserveCertOrder": options.preserve_order,
        }
        if issuer == policies.SELF_ISSUER:
            certificate = issuance.self_signed(policy, key)
            item = formats.material(key, [certificate], preserve_order=False)
            self._add_version(vault, name, item, policy, options, base_url)
            operation.update(status="completed", statusDetails="")
        elif issuer == policies.UNKNOWN_ISSUER:
            self.certificates.put_policy(vault, operation["name"], policy)
            operation.update(status="inProgress", statusDetails=IN_PROGRESS_DETAILS,
                             key=self.cipher.encrypt(_private_pem(key)),
                             enabled=options.enabled, tags=options.tags)
        else:
            raise BadParameter(f"The issuer '{issuer}' is not known to this vault. The local "
                               "Key Vault issues with 'Self' and 'Unknown' only.")
        self.certificates.put_operation(vault, name, operation)
        return operation

    def merge(self, vault: str, name: str, body: Document, base_url: str) -> Document:
        """Run ``POST /certificates/{name}/pending/merge``; returns the new version."""
        operation = self.pending(vault, name)
        if operation["status"] != "inProgress" or "key" not in operation:
            raise BadParameter(f"Pending certificate not found: {name}")
        chain = body.get("x5c")
        if not isinstance(chain, list) or not chain:
            raise BadParameter("Property x5c is required and must be a list of certificates")
        try:
            certificates = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in chain]
        except (ValueError, TypeError, binascii.Error):
            raise BadParameter("Property x5c has invalid value") from None
        key = serialization.load_pem_private_key(
            self.cipher.decrypt(operation["key"]).encode("ascii"), None)
        options = NewVersionOptions.parse({**body, "preserveCertOrder":
                                           operation.get("preserveCertOrder", False)})
        item = formats.material(key, certificates,  # type: ignore[arg-type]
                                preserve_order=options.preserve_order)
        policy = self.policy(vault, name)["policy"]
        doc = self._add_version(vault, name, item, policy, options, base_url)
        operation = {k: v for k, v in operation.items() if k not in ("key", "enabled", "tags")}
        operation.update(status="completed", statusDetails="")
        self.certificates.put_operation(vault, name, operation)
        return doc

    def import_(self, vault: str, name: str, body: Document, base_url: str) -> Document:
        """Run ``POST /certificates/{name}/import``; returns the new version."""
        self._check_writable(vault, name)
        value, password = body.get("value"), body.get("pwd")
        if not isinstance(value, str) or not value:
            raise BadParameter("Property value is required and must be a string")
        if password is not None and not isinstance(password, str):
            raise BadParameter("Property pwd has invalid value")
        options = NewVersionOptions.parse(body)
        given = body.get("policy")
        if given is not None and not isinstance(given, dict):
            raise BadParameter("Property policy has invalid value")
        content_type = ((given or {}).get("secret_props") or {}).get("contentType")
        item, content_type = formats.parse_import(value, password, content_type,
                                                  preserve_order=options.preserve_order)
        if item.private_key is None:
            raise BadParameter("Private key is not specified in the specified X.509 "
                               "certificate content. Please specify private key in the X.509 "
                               "certificate.")
        policy = issuance.imported_policy(item.leaf, given, content_type)
        return self._add_version(vault, name, item, policy, options, base_url)

    # -- reading and updating ---------------------------------------------------------
    def get(self, vault: str, name: str, version: str | None = None) -> Document:
        return self.certificates.get(vault, name, version)

    def policy(self, vault: str, name: str) -> Document:
        if self.certificates.is_deleted(vault, name):
            raise CertificateNotFound(name)
        doc = self.certificates.policy(vault, name)
        if doc is None:
            raise CertificateNotFound(name)
        return doc

    def update_policy(self, vault: str, name: str, patch: Any) -> Document:
        current = self.policy(vault, name)
        return self.certificates.put_policy(
            vault, self.certificates.stored_name(vault, name),
            policies.update_policy(current["policy"], patch))

    def update(self, vault: str, name: str, version: str | None, body: Document) -> Document:
        """``PATCH /certificates/{name}/{version}``: enabled, tags and the policy."""
        attributes = body.get("attributes") or {}
        enabled = attributes.get("enabled") if isinstance(attributes, dict) else None
        tags = body.get("tags")
        if enabled is not None and not isinstance(enabled, bool):
            raise BadParameter("Property enabled has invalid value")
        if tags is not None and not isinstance(tags, dict):
            raise BadParameter("Property tags has invalid value")
        if body.get("policy") is not None:
            self.update_policy(vault, name, body["policy"])

        def change(doc: Document) -> Document:
            if enabled is not None:
                doc["enabled"] = enabled
            if tags is not None:
                doc["tags"] = tags
            return doc

        doc = self.certificates.update_version(vault, name, version, change)
        if enabled is not None:
            self.backing.set_enabled(vault, doc["name"], doc["version"], enabled)
        return doc

    def pending(self, vault: str, name: str) -> Document:
        operation = self.certificates.operation(vault, name)
        if operation is None or self.certificates.is_deleted(vault, name):
            raise CertificateNotFound(name)
        return operation

    def cancel_pending(self, vault: str, name: str, body: Document) -> Document:
        operation = self.pending(vault, name)
        if body.get("cancellation_requested") is True and operation["status"] == "inProgress":
            operation = {k: v for k, v in operation.items() if k != "key"}
            operation.update(status="cancelled", statusDetails="",
                             cancellationRequested=True)
            self.certificates.put_operation(vault, name, operation)
        return operation

    def delete_pending(self, vault: str, name: str) -> Document:
        operation = self.pending(vault, name)
        self.certificates.delete_operation(vault, name)
        return {k: v for k, v in operation.items() if k != "key"}

    # -- soft delete, backup, restore -------------------------------------------------
    def delete(self, vault: str, name: str) -> Document:
        head = self.certificates.delete(vault, name)
        self.backing.delete(vault, head["name"])
        return head

    def recover(self, vault: str, name: str) -> Document:
        current = self.certificates.recover(vault, name)
        self.backing.recover(vault, current["name"])
        return current

    def purge(self, vault: str, name: str) -> None:
        head = self.certificates.deleted_head(vault, name)
        self.certificates.purge(vault, name)
        self.backing.purge(vault, head["name"])

    def backup(self, vault: str, name: str) -> str:
        """An opaque blob (:mod:`.backup`) with every version, the policy and the backing
        secret and key versions."""
        stored_name = self.get(vault, name)["name"]
        document = {
            "certificates": self.certificates.versions(vault, stored_name),
            "policy": self.certificates.policy(vault, stored_name),
            "backing": self.backing.export(vault, stored_name),
        }
        return backup.make_blob(self.cipher, BACKUP_TYPE, stored_name, [document])

    def restore(self, vault: str, value: Any, base_url: str) -> Document:
        """Recreate a backed-up certificate; 409 when its name is in use."""
        blob = backup.read_blob(self.cipher, BACKUP_TYPE, value)
        name, document = blob["name"], blob["versions"][0]
        if self.certificates.exists(vault, name) or self.certificates.is_deleted(
                vault, name) or self.backing.in_use(vault, name):
            raise Conflict(f"There was a conflict restoring the certificate '{name}': an "
                           "object with this name already exists in the vault, live or "
                           "deleted.")
        latest = self.certificates.restore(vault, name, document["certificates"])
        self.backing.restore(vault, name, document["backing"], base_url)
        if document.get("policy") is not None:
            self.certificates.put_policy(vault, name, document["policy"]["policy"])
        return latest


def _private_pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")
