"""Federated identity credentials: which external tokens an identity trusts.

Upstream counterparts: Microsoft.ManagedIdentity
``userAssignedIdentities/{name}/federatedIdentityCredentials/{fic}`` (ARM, api-version
2023-01-31; ``az identity federated-credential create``) and Microsoft Graph
``/v1.0/applications/{id}/federatedIdentityCredentials`` (``az ad app federated-credential``).
Each credential names one ``issuer``, one ``subject`` and its ``audiences`` (exactly one);
the token service accepts a client assertion when all three match one credential of the
client (:func:`credentials_for_principal`).

Storage: an identity's credentials are ``arm`` documents under the identity
(key ``{identity key}/federatedidentitycredentials/{name lower}``, parent = the identity's
key), so deleting the identity deletes them; an application's are kind ``app-fic``
(key ``{appId lower}/{credential id}``, parent = appId lower-cased).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from kvcsi.cloud.arm import directory, errors, identities, ids
from kvcsi.cloud.store import CloudStore

FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
APP_FIC = "app-fic"
MAX_CREDENTIALS = 20
GRAPH_METADATA = "https://graph.microsoft.com/v1.0/$metadata"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")


def _validate(name: str, issuer: Any, subject: Any, audiences: Any) -> list[str]:
    """The checks both planes make; returns the audiences as a list of strings."""
    if not _NAME.match(name or ""):
        raise errors.bad_request(
            f"Federated identity credential name '{name}' is invalid. The name must be 3-120 "
            "characters long, start with a letter or number, and contain only letters, "
            "numbers, hyphens and underscores.")
    if not isinstance(issuer, str) or urlsplit(issuer).scheme != "https" \
            or not urlsplit(issuer).netloc:
        raise errors.bad_request(f"Issuer '{issuer}' must be a valid URL using the https "
                                 "scheme.")
    if not isinstance(subject, str) or not subject.strip():
        raise errors.bad_request("Subject is required and cannot be empty.")
    if not isinstance(audiences, list) or len(audiences) != 1 \
            or not all(isinstance(a, str) and a for a in audiences):
        raise errors.bad_request("Audiences must contain exactly one value.")
    return [str(a) for a in audiences]


def _check_unique(existing: list[dict[str, Any]], name: str, issuer: str, subject: str,
                  name_of: Any) -> None:
    others = [c for c in existing if name_of(c).lower() != name.lower()]
    for credential in others:
        if credential["issuer"] == issuer and credential["subject"] == subject:
            raise errors.ArmError(
                409, "Conflict",
                f"A federated identity credential with issuer '{issuer}' and subject "
                f"'{subject}' already exists on this identity ('{name_of(credential)}').")
    if len(others) >= MAX_CREDENTIALS:
        raise errors.bad_request(f"An identity can have at most {MAX_CREDENTIALS} federated "
                                 "identity credentials.")


# --- user-assigned identities (ARM) ------------------------------------------------------

def _identity(store: CloudStore, subscription_id: str, resource_group: str,
              identity_name: str) -> dict[str, Any]:
    return identities.get(store, subscription_id, resource_group, identity_name)


def list_for_identity(store: CloudStore, subscription_id: str, resource_group: str,
                      identity_name: str) -> list[dict[str, Any]]:
    identity = _identity(store, subscription_id, resource_group, identity_name)
    return store.children("arm", ids.key(identity["id"]))


def _flat(resource: dict[str, Any]) -> dict[str, Any]:
    return {"name": resource["name"], **resource["properties"]}


def get_for_identity(store: CloudStore, subscription_id: str, resource_group: str,
                     identity_name: str, name: str) -> dict[str, Any]:
    identity = _identity(store, subscription_id, resource_group, identity_name)
    found = store.get("arm", ids.key(f"{identity['id']}/federatedIdentityCredentials/{name}"))
    if found is None:
        raise errors.resource_not_found(FIC_TYPE, f"{identity_name}/{name}", resource_group)
    return found


def put_for_identity(store: CloudStore, subscription_id: str, resource_group: str,
                     identity_name: str, name: str,
                     body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``PUT`` one credential of a user-assigned identity: ``(resource, created)``."""
    identity = _identity(store, subscription_id, resource_group, identity_name)
    properties = body.get("properties") or {}
    audiences = _validate(name, properties.get("issuer"), properties.get("subject"),
                          properties.get("audiences"))
    resource_id = f"{identity['id']}/federatedIdentityCredentials/{name}"
    with store.transaction():
        existing = store.children("arm", ids.key(identity["id"]))
        _check_unique([_flat(r) for r in existing], name, properties["issuer"],
                      properties["subject"], lambda c: c["name"])
        previous = store.get("arm", ids.key(resource_id))
        resource = {
            "id": previous["id"] if previous else resource_id,
            "name": previous["name"] if previous else name,
            "type": FIC_TYPE,
            "properties": {"issuer": properties["issuer"], "subject": properties["subject"],
                           "audiences": audiences},
        }
        store.put("arm", ids.key(resource_id), resource, parent=ids.key(identity["id"]))
    return resource, previous is None


def delete_for_identity(store: CloudStore, subscription_id: str, resource_group: str,
                        identity_name: str, name: str) -> bool:
    identity = _identity(store, subscription_id, resource_group, identity_name)
    return store.delete("arm", ids.key(f"{identity['id']}/federatedIdentityCredentials/{name}"))


# --- applications (Graph) ----------------------------------------------------------------

def application_by_reference(store: CloudStore, reference: str) -> dict[str, Any]:
    """``{object id}`` or ``(appId='{appId}')`` as Graph addresses an application."""
    match = re.fullmatch(r"\(appId='([^']*)'\)", reference)
    if match:
        found = directory.application_by_app_id(store, match.group(1))
    else:
        found = next((a for a in store.scan(directory.APPLICATION)
                      if a["id"].lower() == reference.lower()), None)
    if found is None:
        raise errors.graph_not_found(reference)
    return found


def _graph_view(application: dict[str, Any], credential: dict[str, Any], *,
                entity: bool) -> dict[str, Any]:
    view = {key: credential[key] for key in
            ("audiences", "description", "id", "issuer", "name", "subject")}
    if entity:
        return {"@odata.context": f"{GRAPH_METADATA}#applications('{application['id']}')/"
                                  "federatedIdentityCredentials/$entity", **view}
    return view


def list_for_application(store: CloudStore, reference: str) -> dict[str, Any]:
    application = application_by_reference(store, reference)
    credentials = store.children(APP_FIC, application["appId"].lower())
    return {"@odata.context": f"{GRAPH_METADATA}#applications('{application['id']}')/"
                              "federatedIdentityCredentials",
            "value": [_graph_view(application, c, entity=False) for c in credentials]}


def create_for_application(store: CloudStore, reference: str,
                           body: dict[str, Any]) -> dict[str, Any]:
    """``POST .../federatedIdentityCredentials`` (Graph answers 201 with the entity)."""
    application = application_by_reference(store, reference)
    name = str(body.get("name") or "")
    audiences = _validate(name, body.get("issuer"), body.get("subject"), body.get("audiences"))
    parent = application["appId"].lower()
    with store.transaction():
        existing = store.children(APP_FIC, parent)
        if any(c["name"].lower() == name.lower() for c in existing):
            raise errors.ArmError(409, "Request_BadRequest",
                                  f"A federated identity credential named '{name}' already "
                                  "exists on this application.")
        _check_unique(existing, name, body["issuer"], body["subject"], lambda c: c["name"])
        credential = {"id": str(uuid.uuid4()), "name": name, "issuer": body["issuer"],
                      "subject": body["subject"], "audiences": audiences,
                      "description": body.get("description")}
        store.put(APP_FIC, f"{parent}/{credential['id']}", credential, parent=parent)
    return _graph_view(application, credential, entity=True)


def _find_application_credential(store: CloudStore, application: dict[str, Any],
                                 credential: str) -> dict[str, Any]:
    for found in store.children(APP_FIC, application["appId"].lower()):
        if credential.lower() in (found["id"].lower(), found["name"].lower()):
            return found
    raise errors.graph_not_found(credential)


def get_for_application(store: CloudStore, reference: str, credential: str) -> dict[str, Any]:
    application = application_by_reference(store, reference)
    return _graph_view(application,
                       _find_application_credential(store, application, credential),
                       entity=True)


def delete_for_application(store: CloudStore, reference: str, credential: str) -> None:
    application = application_by_reference(store, reference)
    found = _find_application_credential(store, application, credential)
    store.delete(APP_FIC, f"{application['appId'].lower()}/{found['id']}")


# --- what the token service reads ----------------------------------------------------------

def credentials_for_principal(store: CloudStore,
                              principal: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"name", "issuer", "subject", "audiences"}]`` trusted for this service principal:
    its user-assigned identity's credentials, or its application's."""
    if principal.get("servicePrincipalType") == "ManagedIdentity":
        found: list[dict[str, Any]] = []
        for resource_id in principal.get("alternativeNames", []):
            if identities.find(store, resource_id) is not None:
                found.extend(_flat(r) for r in store.children("arm", ids.key(resource_id)))
        return found
    return store.children(APP_FIC, str(principal.get("appId", "")).lower())
