"""Application registrations and their service principals through Graph, as
``az ad sp create-for-rbac`` and ``az ad app`` use them.

Upstream counterpart: Graph v1.0 ``POST /applications``, ``GET /applications[?$filter=appId
eq '...' | displayName eq '...']``, ``GET /applications/{id}``,
``POST /applications/{id}/addPassword`` and ``POST /servicePrincipals``. Applications are kind
``application`` (key appId), their service principals kind ``principal``; a password is kept
only as a salted hash (:mod:`kvcsi.cloud.arm.app_secrets`) and returned once in
``secretText``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from kvcsi.cloud.arm import app_secrets, directory, errors, subscriptions
from kvcsi.cloud.store import CloudStore

METADATA = "https://graph.microsoft.com/v1.0/$metadata"
_FILTER = re.compile(r"^\s*(?P<field>appId|displayName)\s+eq\s+'(?P<v>[^']*)'\s*$",
                     re.IGNORECASE)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def application_view(application: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": application["id"],
        "appId": application["appId"],
        "displayName": application["displayName"],
        "signInAudience": application.get("signInAudience", "AzureADMyOrg"),
        "identifierUris": application.get("identifierUris", []),
        "createdDateTime": application.get("createdDateTime"),
        "passwordCredentials": application.get("passwordCredentials", []),
        "keyCredentials": [],
    }


def _tenant_id(store: CloudStore) -> str:
    tenants = subscriptions.tenants(store)
    return tenants[0]["tenantId"] if tenants else ""


def create_application(store: CloudStore, body: dict[str, Any]) -> dict[str, Any]:
    name = str(body.get("displayName") or "").strip()
    if not name:
        raise errors.ArmError(400, "Request_BadRequest",
                              "Property displayName is required.")
    application = directory.create_application(store, display_name=name)
    application.update(createdDateTime=_stamp(datetime.now(UTC)), passwordCredentials=[],
                       identifierUris=list(body.get("identifierUris") or []))
    store.put(directory.APPLICATION, application["appId"], application)
    return {"@odata.context": f"{METADATA}#applications/$entity",
            **application_view(application)}


def find_application(store: CloudStore, object_id: str) -> dict[str, Any]:
    found = next((a for a in store.scan(directory.APPLICATION)
                  if a["id"].lower() == object_id.lower()), None)
    if found is None:
        raise errors.graph_not_found(object_id)
    return found


def get_application(store: CloudStore, object_id: str) -> dict[str, Any]:
    return {"@odata.context": f"{METADATA}#applications/$entity",
            **application_view(find_application(store, object_id))}


def list_applications(store: CloudStore, filter_expression: str) -> dict[str, Any]:
    found = store.scan(directory.APPLICATION)
    if filter_expression:
        match = _FILTER.match(filter_expression)
        if match is None:
            raise errors.graph_unsupported_query(
                f"Unsupported or invalid query filter clause specified: '{filter_expression}'.")
        field, wanted = match.group("field"), match.group("v").lower()
        key = "appId" if field.lower() == "appid" else "displayName"
        found = [a for a in found if str(a.get(key, "")).lower() == wanted]
    return {"@odata.context": f"{METADATA}#applications",
            "value": [application_view(a) for a in found]}


def add_password(store: CloudStore, object_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A new client secret; the only place its text ever appears is this answer."""
    application = find_application(store, object_id)
    requested = body.get("passwordCredential") or {}
    key_id, secret = app_secrets.add_client_secret(store, application["appId"])
    start = datetime.now(UTC)
    end = requested.get("endDateTime") or _stamp(start + timedelta(days=365))
    credential = {"customKeyIdentifier": None, "displayName": requested.get("displayName"),
                  "endDateTime": end, "hint": secret[:3], "keyId": key_id,
                  "startDateTime": _stamp(start)}
    application.setdefault("passwordCredentials", []).append(
        {**credential, "secretText": None})
    store.put(directory.APPLICATION, application["appId"], application)
    return {"@odata.context": f"{METADATA}#microsoft.graph.passwordCredential",
            **credential, "secretText": secret}


def create_service_principal(store: CloudStore, body: dict[str, Any]) -> dict[str, Any]:
    from kvcsi.cloud.arm.graph_api import service_principal_view

    app_id = str(body.get("appId") or "")
    application = directory.application_by_app_id(store, app_id)
    if application is None:
        raise errors.ArmError(
            400, "Request_BadRequest",
            f"The appId '{app_id}' of the service principal does not reference a valid "
            "application object.")
    if directory.principal_by_app_id(store, app_id) is not None:
        raise errors.ArmError(409, "Request_MultipleObjectsWithSameKeyValue",
                              "The service principal cannot be created, updated, or restored "
                              "because the service principal appId is already in use.")
    principal = directory.create_service_principal(
        store, display_name=application["displayName"], tenant_id=_tenant_id(store),
        app_id=app_id)
    return {"@odata.context": f"{METADATA}#servicePrincipals/$entity",
            **service_principal_view(principal)}
