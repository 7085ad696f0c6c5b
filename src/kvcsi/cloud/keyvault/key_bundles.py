"""JSON shapes of Key Vault key answers: KeyBundle, KeyItem, DeletedKeyBundle, results.

``key`` is the public JWK only (``kid`` = ``{vault}/keys/{name}/{version}``, ``kty``,
``key_ops``, then ``n``/``e`` or ``crv``/``x``/``y`` in base64url without padding);
``attributes`` add ``exportable`` to the secret attributes; list items carry ``kid`` (without
version for ``/keys``, with it for ``/versions``), never the key.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.keyvault.objects import Document
from kvcsi.cloud.keyvault.secret_bundles import attributes as common_attributes


def key_id(base_url: str, doc: Document) -> str:
    return f"{base_url}/keys/{doc['name']}/{doc['version']}"


def attributes(doc: Document) -> dict[str, Any]:
    result = common_attributes(doc)
    result["exportable"] = bool(doc.get("exportable", False))
    return result


def _extras(doc: Document, body: dict[str, Any]) -> dict[str, Any]:
    if doc.get("tags") is not None:
        body["tags"] = doc["tags"]
    if doc.get("managed"):
        body["managed"] = True
    return body


def key_bundle(doc: Document, base_url: str) -> dict[str, Any]:
    key: dict[str, Any] = {"kid": key_id(base_url, doc), "kty": doc["kty"],
                           "key_ops": doc["key_ops"]}
    key.update(doc["public"])
    return _extras(doc, {"key": key, "attributes": attributes(doc)})


def key_item(doc: Document, base_url: str, *, with_version: bool) -> dict[str, Any]:
    kid = key_id(base_url, doc) if with_version else f"{base_url}/keys/{doc['name']}"
    return _extras(doc, {"kid": kid, "attributes": attributes(doc)})


def _deleted_fields(head: Document, base_url: str) -> dict[str, Any]:
    return {"recoveryId": f"{base_url}/deletedkeys/{head['name']}",
            "deletedDate": head["deletedDate"], "scheduledPurgeDate": head["scheduledPurgeDate"]}


def deleted_key_bundle(head: Document, base_url: str) -> dict[str, Any]:
    body = _deleted_fields(head, base_url)
    body.update(key_bundle(head["current"], base_url))
    return body


def deleted_key_item(head: Document, base_url: str) -> dict[str, Any]:
    body = _deleted_fields(head, base_url)
    body.update(key_item(head["current"], base_url, with_version=False))
    return body
