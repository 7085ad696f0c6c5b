"""JSON shapes of Key Vault secret answers: SecretBundle, SecretItem, DeletedSecretBundle.

Field names and their presence follow the REST spec (7.x / 2025+): timestamps are integer
Unix seconds, absent optional fields are omitted, list items and update answers never carry
``value``; deleted shapes add ``recoveryId``, ``deletedDate`` and ``scheduledPurgeDate``.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.keyvault.objects import RECOVERABLE_DAYS, RECOVERY_LEVEL, Document


def attributes(doc: Document) -> dict[str, Any]:
    result: dict[str, Any] = {"enabled": doc["enabled"]}
    if doc.get("nbf") is not None:
        result["nbf"] = doc["nbf"]
    if doc.get("exp") is not None:
        result["exp"] = doc["exp"]
    result.update({"created": doc["created"], "updated": doc["updated"],
                   "recoveryLevel": RECOVERY_LEVEL, "recoverableDays": RECOVERABLE_DAYS})
    return result


def _common(doc: Document, secret_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": secret_id}
    if doc.get("contentType") is not None:
        body["contentType"] = doc["contentType"]
    body["attributes"] = attributes(doc)
    if doc.get("tags") is not None:
        body["tags"] = doc["tags"]
    if doc.get("kid"):
        body["kid"] = doc["kid"]
    if doc.get("managed"):
        body["managed"] = True
    return body


def secret_id(base_url: str, doc: Document) -> str:
    return f"{base_url}/secrets/{doc['name']}/{doc['version']}"


def secret_bundle(doc: Document, value: str | None, base_url: str) -> dict[str, Any]:
    """A SecretBundle; ``value`` None leaves it out (update and recover answers)."""
    body = {"value": value} if value is not None else {}
    body.update(_common(doc, secret_id(base_url, doc)))
    return body


def secret_item(doc: Document, base_url: str, *, with_version: bool) -> dict[str, Any]:
    item_id = secret_id(base_url, doc) if with_version else f"{base_url}/secrets/{doc['name']}"
    return _common(doc, item_id)


def _deleted_fields(head: Document, base_url: str) -> dict[str, Any]:
    return {"recoveryId": f"{base_url}/deletedsecrets/{head['name']}",
            "deletedDate": head["deletedDate"], "scheduledPurgeDate": head["scheduledPurgeDate"]}


def deleted_secret_bundle(head: Document, base_url: str) -> dict[str, Any]:
    body = _deleted_fields(head, base_url)
    body.update(secret_bundle(head["current"], None, base_url))
    return body


def deleted_secret_item(head: Document, base_url: str) -> dict[str, Any]:
    body = _deleted_fields(head, base_url)
    body.update(secret_item(head["current"], base_url, with_version=False))
    return body
