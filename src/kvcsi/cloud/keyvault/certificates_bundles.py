"""JSON shapes of Key Vault certificate answers: CertificateBundle, CertificateItem,
DeletedCertificateBundle/Item, CertificateOperation and ids.

Field names follow the REST spec (7.x / 2025+): ``id``, ``kid`` and ``sid`` share the
certificate's name and version; ``x5t`` is base64url, ``cer`` standard base64; attributes
``nbf``/``exp`` are the certificate's validity; timestamps are integer Unix seconds.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.keyvault.certificates_policy import policy_json
from kvcsi.cloud.keyvault.objects import RECOVERABLE_DAYS, RECOVERY_LEVEL

Document = dict[str, Any]
IN_PROGRESS_DETAILS = ("Pending certificate created. Certificate request is in progress. This "
                       "may take some time based on the issuer provider. Please check again "
                       "later.")


def certificate_id(base_url: str, name: str, version: str | None = None) -> str:
    return f"{base_url}/certificates/{name}" + (f"/{version}" if version else "")


def policy_id(base_url: str, name: str) -> str:
    return f"{base_url}/certificates/{name}/policy"


def operation_id(base_url: str, name: str) -> str:
    return f"{base_url}/certificates/{name}/pending"


def attributes(doc: Document) -> Document:
    return {"enabled": doc["enabled"], "nbf": doc["nbf"], "exp": doc["exp"],
            "created": doc["created"], "updated": doc["updated"],
            "recoveryLevel": RECOVERY_LEVEL, "recoverableDays": RECOVERABLE_DAYS}


def policy_body(base_url: str, name: str, policy_doc: Document) -> Document:
    return policy_json(policy_doc["policy"], policy_id(base_url, name),
                       policy_doc["created"], policy_doc["updated"])


def certificate_bundle(doc: Document, base_url: str,
                       policy_doc: Document | None) -> Document:
    name, version = doc["name"], doc["version"]
    bundle: Document = {
        "id": certificate_id(base_url, name, version),
        "kid": f"{base_url}/keys/{name}/{version}",
        "sid": f"{base_url}/secrets/{name}/{version}",
        "x5t": doc["x5t"],
        "cer": doc["cer"],
        "attributes": attributes(doc),
    }
    if policy_doc is not None:
        bundle["policy"] = policy_body(base_url, name, policy_doc)
    if doc.get("tags") is not None:
        bundle["tags"] = doc["tags"]
    bundle["preserveCertOrder"] = bool(doc.get("preserveCertOrder", False))
    return bundle


def certificate_item(doc: Document, base_url: str, *, with_version: bool) -> Document:
    item: Document = {
        "id": certificate_id(base_url, doc["name"], doc["version"] if with_version else None),
        "x5t": doc["x5t"],
        "attributes": attributes(doc),
    }
    if doc.get("tags") is not None:
        item["tags"] = doc["tags"]
    return item


def _deleted_fields(head: Document, base_url: str) -> Document:
    return {"recoveryId": f"{base_url}/deletedcertificates/{head['name']}",
            "deletedDate": head["deletedDate"],
            "scheduledPurgeDate": head["scheduledPurgeDate"]}


def deleted_bundle(head: Document, base_url: str, policy_doc: Document | None) -> Document:
    bundle = certificate_bundle(head["current"], base_url, policy_doc)
    bundle.update(_deleted_fields(head, base_url))
    return bundle


def deleted_item(head: Document, base_url: str) -> Document:
    item = certificate_item(head["current"], base_url, with_version=False)
    item.update(_deleted_fields(head, base_url))
    return item


def operation_body(operation: Document, base_url: str, *, accepted: bool = False) -> Document:
    """A stored create operation as ``CertificateOperation``.

    ``accepted`` shapes the 202 answer of create: ``inProgress``, as Key Vault answers even
    for ``Self`` (the SDK's poller reads ``/pending`` at once, finds ``completed`` and never
    sleeps; a 202 that already said ``completed`` would make ``poller.result()`` None).
    """
    name = operation["name"]
    if accepted and operation["status"] == "completed":
        operation = dict(operation, status="inProgress", statusDetails=IN_PROGRESS_DETAILS)
    body: Document = {
        "id": operation_id(base_url, name),
        "issuer": {"name": operation["issuer"]},
        "csr": operation["csr"],
        "cancellation_requested": operation.get("cancellationRequested", False),
        "status": operation["status"],
        "status_details": operation.get("statusDetails", ""),
        "request_id": operation["requestId"],
    }
    if operation["status"] == "completed":
        body["target"] = certificate_id(base_url, name)
    if operation.get("error"):
        body["error"] = operation["error"]
    body["preserveCertOrder"] = bool(operation.get("preserveCertOrder", False))
    return body
