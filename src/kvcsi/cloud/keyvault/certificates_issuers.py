"""Certificate issuers and certificate contacts of a vault: storage and wire shapes.

Counterpart of ``/certificates/issuers[/{name}]`` (IssuerBundle: ``provider``,
``credentials{account_id, pwd}``, ``org_details{id, admin_details[]}``,
``attributes{enabled, created, updated}``; the password is stored encrypted and never
answered) and ``/certificates/contacts`` (``{"id", "contacts": [{email, name, phone}]}``).
Issuers are configuration only: the local Key Vault issues certificates with ``Self`` and
``Unknown``, never through a configured provider. Documents (kind ``kv-certificate``,
keys under ``{vault}/``, so purging a vault drops them): ``{vault}/~issuers/{name-lower}``
(parent ``{vault}/~issuers``) and ``{vault}/~contacts`` (parent ``{vault}/~meta``).
"""

from __future__ import annotations

import copy
from typing import Any

from kvcsi.cloud.keyvault.certificates_store import KIND
from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import BadParameter, ContactsNotFound, IssuerNotFound
from kvcsi.cloud.keyvault.objects import NAME_PATTERN, now_seconds
from kvcsi.cloud.store import CloudStore

Document = dict[str, Any]
CONTACT_FIELDS = ("email", "name", "phone")
ADMIN_FIELDS = ("first_name", "last_name", "email", "phone")


def _issuers_parent(vault: str) -> str:
    return f"{vault.lower()}/~issuers"


def _contacts_key(vault: str) -> str:
    return f"{vault.lower()}/~contacts"


def _strings_only(value: Any, fields: tuple[str, ...], name: str) -> Document:
    if not isinstance(value, dict) or not all(
            isinstance(value.get(f), str) for f in fields if value.get(f) is not None):
        raise BadParameter(f"Property {name} has invalid value")
    return {f: value[f] for f in fields if value.get(f) is not None}


class IssuerStore:
    """Issuers and contacts of every vault in one store."""

    def __init__(self, store: CloudStore, cipher: SecretCipher) -> None:
        self.store = store
        self.cipher = cipher

    # -- issuers ----------------------------------------------------------------------
    def _issuer_key(self, vault: str, name: str) -> str:
        return f"{_issuers_parent(vault)}/{name.lower()}"

    def get_issuer(self, vault: str, name: str) -> Document:
        doc = self.store.get(KIND, self._issuer_key(vault, name))
        if doc is None:
            raise IssuerNotFound(name)
        return doc

    def issuers(self, vault: str) -> list[Document]:
        return self.store.children(KIND, _issuers_parent(vault))

    def set_issuer(self, vault: str, name: str, body: Document, *, merge: bool) -> Document:
        """PUT (``merge`` False) or PATCH (``merge`` True) an issuer."""
        if not NAME_PATTERN.match(name):
            raise BadParameter(f"Issuer name '{name}' is invalid.")
        existing = self.store.get(KIND, self._issuer_key(vault, name))
        if merge and existing is None:
            raise IssuerNotFound(name)
        doc: Document = copy.deepcopy(existing) if merge and existing else {}
        now = now_seconds()
        doc.update({"name": existing["name"] if existing else name,
                    "created": existing["created"] if existing else now, "updated": now})
        provider = body.get("provider", doc.get("provider"))
        if not isinstance(provider, str) or not provider:
            raise BadParameter("Property provider is required and must be a string")
        doc["provider"] = provider
        if "credentials" in body:
            credentials = _strings_only(body["credentials"] or {}, ("account_id", "pwd"),
                                        "credentials")
            if "pwd" in credentials:
                credentials["pwd"] = self.cipher.encrypt(credentials["pwd"])
            doc["credentials"] = credentials
        if "org_details" in body:
            doc["org_details"] = self._org_details(body["org_details"] or {})
        enabled = (body.get("attributes") or {}).get("enabled", doc.get("enabled", True))
        if not isinstance(enabled, bool):
            raise BadParameter("Property enabled has invalid value")
        doc["enabled"] = enabled
        self.store.put(KIND, self._issuer_key(vault, name), doc, parent=_issuers_parent(vault))
        return doc

    @staticmethod
    def _org_details(value: Any) -> Document:
        if not isinstance(value, dict):
            raise BadParameter("Property org_details has invalid value")
        details: Document = {}
        if value.get("id") is not None:
            details["id"] = str(value["id"])
        admins = value.get("admin_details") or []
        if not isinstance(admins, list):
            raise BadParameter("Property admin_details has invalid value")
        details["admin_details"] = [_strings_only(a, ADMIN_FIELDS, "admin_details")
                                    for a in admins]
        return details

    def delete_issuer(self, vault: str, name: str) -> Document:
        doc = self.get_issuer(vault, name)
        self.store.delete(KIND, self._issuer_key(vault, name))
        return doc

    # -- contacts ---------------------------------------------------------------------
    def contacts(self, vault: str) -> list[Document]:
        doc = self.store.get(KIND, _contacts_key(vault))
        if doc is None:
            raise ContactsNotFound()
        return list(doc["contacts"])

    def set_contacts(self, vault: str, body: Document) -> list[Document]:
        contacts = body.get("contacts")
        if not isinstance(contacts, list):
            raise BadParameter("Property contacts is required and must be a list")
        stored = [_strings_only(c, CONTACT_FIELDS, "contacts") for c in contacts]
        self.store.put(KIND, _contacts_key(vault), {"contacts": stored},
                       parent=f"{vault.lower()}/~meta")
        return stored

    def delete_contacts(self, vault: str) -> list[Document]:
        contacts = self.contacts(vault)
        self.store.delete(KIND, _contacts_key(vault))
        return contacts


def issuer_bundle(doc: Document, base_url: str) -> Document:
    body: Document = {"id": f"{base_url}/certificates/issuers/{doc['name']}",
                      "provider": doc["provider"]}
    if "credentials" in doc:
        body["credentials"] = {k: v for k, v in doc["credentials"].items() if k != "pwd"}
    if "org_details" in doc:
        body["org_details"] = doc["org_details"]
    body["attributes"] = {"enabled": doc["enabled"], "created": doc["created"],
                          "updated": doc["updated"]}
    return body


def issuer_item(doc: Document, base_url: str) -> Document:
    return {"id": f"{base_url}/certificates/issuers/{doc['name']}", "provider": doc["provider"]}


def contacts_body(contacts: list[Document], base_url: str) -> Document:
    return {"id": f"{base_url}/certificates/contacts", "contacts": contacts}
