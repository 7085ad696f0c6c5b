"""The slice of Microsoft Graph that ``az`` uses to resolve principals.

Upstream counterpart: Graph v1.0 ``servicePrincipals`` (``$filter=appId eq '...'``,
``servicePrincipalNames/any(c:c eq '...')``, ``displayName eq '...'``), ``directoryObjects/{id}``
and ``directoryObjects/getByIds``, answered from the local directory.
"""

from __future__ import annotations

import re
from typing import Any

from kvcsi.cloud.arm import directory, errors
from kvcsi.cloud.store import CloudStore

METADATA = "https://graph.microsoft.com/v1.0/$metadata"
SERVICE_PRINCIPAL_ODATA_TYPE = "#microsoft.graph.servicePrincipal"
_APP_ID = re.compile(r"^\s*appId\s+eq\s+'(?P<v>[^']*)'\s*$", re.IGNORECASE)
_DISPLAY_NAME = re.compile(r"^\s*displayName\s+eq\s+'(?P<v>[^']*)'\s*$", re.IGNORECASE)
_SPN = re.compile(r"^\s*servicePrincipalNames/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)\s+eq\s+"
                  r"'(?P<v>[^']*)'\s*\)\s*$", re.IGNORECASE)


def service_principal_view(principal: dict[str, Any], *, typed: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {"@odata.type": SERVICE_PRINCIPAL_ODATA_TYPE} if typed else {}
    view.update({
        "id": principal["id"],
        "accountEnabled": principal.get("accountEnabled", True),
        "alternativeNames": principal.get("alternativeNames", []),
        "appDisplayName": principal["displayName"],
        "appId": principal["appId"],
        "appOwnerOrganizationId": principal.get("tenantId"),
        "displayName": principal["displayName"],
        "servicePrincipalNames": principal.get("servicePrincipalNames", [principal["appId"]]),
        "servicePrincipalType": principal["servicePrincipalType"],
        "signInAudience": "AzureADMyOrg" if principal["servicePrincipalType"] == "Application"
        else None,
        "tags": [],
        "keyCredentials": [],
        "passwordCredentials": [],
    })
    return view


def list_service_principals(store: CloudStore, filter_expression: str) -> dict[str, Any]:
    principals = directory.all_principals(store)
    if filter_expression:
        for pattern, field in ((_APP_ID, "appId"), (_DISPLAY_NAME, "displayName"),
                               (_SPN, "servicePrincipalNames")):
            match = pattern.match(filter_expression)
            if match:
                wanted = match.group("v").lower()
                principals = [p for p in principals if wanted in _values(p, field)]
                break
        else:
            raise errors.graph_unsupported_query(
                f"Unsupported or invalid query filter clause specified: '{filter_expression}'.")
    return {"@odata.context": f"{METADATA}#servicePrincipals",
            "value": [service_principal_view(p) for p in principals]}


def _values(principal: dict[str, Any], field: str) -> list[str]:
    value = principal.get(field, [principal["appId"]] if field == "servicePrincipalNames" else "")
    return [v.lower() for v in (value if isinstance(value, list) else [value])]


def get_service_principal(store: CloudStore, object_id: str) -> dict[str, Any]:
    principal = directory.principal_by_object_id(store, object_id)
    if principal is None:
        raise errors.graph_not_found(object_id)
    return {"@odata.context": f"{METADATA}#servicePrincipals/$entity",
            **service_principal_view(principal)}


def get_directory_object(store: CloudStore, object_id: str) -> dict[str, Any]:
    principal = directory.principal_by_object_id(store, object_id)
    if principal is None:
        raise errors.graph_not_found(object_id)
    return {"@odata.context": f"{METADATA}#directoryObjects/$entity",
            **service_principal_view(principal, typed=True)}


def get_by_ids(store: CloudStore, body: dict[str, Any]) -> dict[str, Any]:
    types = [t.lower() for t in body.get("types") or []]
    found = []
    if not types or "serviceprincipal" in types:
        for object_id in body.get("ids") or []:
            principal = directory.principal_by_object_id(store, object_id)
            if principal is not None:
                found.append(service_principal_view(principal, typed=True))
    return {"@odata.context": f"{METADATA}#directoryObjects", "value": found}
