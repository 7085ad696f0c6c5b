"""Subscription aliases: how a new subscription is created (``az account alias create``).

Upstream counterpart: Microsoft.Subscription ``aliases``
(``PUT /providers/Microsoft.Subscription/aliases/{name}``). Creating an alias creates a
subscription in the tenant with the built-in role definitions, and makes the caller its Owner
(as the subscription's creator is on Azure). Aliases are kind ``subscription-alias``
(key = alias name lower-cased).
"""

from __future__ import annotations

import uuid
from typing import Any

from kvcsi.cloud.arm import errors, ids, role_assignments, role_definitions, roles, subscriptions
from kvcsi.cloud.store import CloudStore

ALIAS = "subscription-alias"
ALIAS_TYPE = "Microsoft.Subscription/aliases"


def _view(name: str, subscription_id: str) -> dict[str, Any]:
    return {"id": f"/providers/{ALIAS_TYPE}/{name}", "name": name, "type": ALIAS_TYPE,
            "properties": {"provisioningState": "Succeeded", "subscriptionId": subscription_id}}


def get(store: CloudStore, name: str) -> dict[str, Any]:
    found = store.get(ALIAS, name.lower())
    if found is None:
        raise errors.ArmError(404, "ResourceNotFound",
                              f"The subscription alias '{name}' was not found.")
    return _view(found["name"], found["subscriptionId"])


def create(store: CloudStore, name: str, body: dict[str, Any],
           creator_principal_id: str) -> tuple[dict[str, Any], bool]:
    """``PUT`` an alias: ``(alias, created)``; an existing alias is returned unchanged."""
    existing = store.get(ALIAS, name.lower())
    if existing is not None:
        return _view(existing["name"], existing["subscriptionId"]), False
    properties = body.get("properties") or {}
    display_name = str(properties.get("displayName") or name)
    tenants = subscriptions.tenants(store)
    if not tenants:
        raise errors.bad_request("The directory has no tenant to create a subscription in.")
    subscription_id = str(uuid.uuid4())
    with store.transaction():
        subscriptions.create_subscription(store, subscription_id, tenants[0]["tenantId"],
                                          display_name)
        role_definitions.store_built_in_roles(store, subscription_id)
        if creator_principal_id:
            role_assignments.create(
                store, ids.subscription_id_of(subscription_id), str(uuid.uuid4()),
                {"roleDefinitionId": roles.role_definition_id(subscription_id,
                                                              roles.OWNER.guid),
                 "principalId": creator_principal_id})
        store.put(ALIAS, name.lower(), {"name": name, "subscriptionId": subscription_id})
    return _view(name, subscription_id), True
