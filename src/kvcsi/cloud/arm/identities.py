"""User-assigned managed identities and the service principals behind them.

Upstream counterpart: Microsoft.ManagedIdentity ``userAssignedIdentities``
(``az identity create|show|list|delete``). Creating one creates a ``ManagedIdentity``
service principal whose ``alternativeNames`` is ``[resource id]``; the resource carries
``properties.{tenantId, principalId, clientId}``.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.arm import directory, errors, ids, resource_groups, subscriptions
from kvcsi.cloud.store import CloudStore

IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def identity_id(subscription_id: str, resource_group: str, name: str) -> str:
    return ids.resource_id(subscription_id, resource_group, IDENTITY_TYPE, name)


def find(store: CloudStore, resource_id: str) -> dict[str, Any] | None:
    found = store.get("arm", ids.key(resource_id))
    return found if found and found["type"] == IDENTITY_TYPE else None


def get(store: CloudStore, subscription_id: str, resource_group: str,
        name: str) -> dict[str, Any]:
    group = resource_groups.get(store, subscription_id, resource_group)
    found = find(store, identity_id(subscription_id, group["name"], name))
    if found is None:
        raise errors.resource_not_found(IDENTITY_TYPE, name, resource_group)
    return found


def create_or_update(store: CloudStore, subscription_id: str, resource_group: str, name: str,
                     body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    group = resource_groups.get(store, subscription_id, resource_group)
    resource_id = identity_id(subscription_id, group["name"], name)
    existing = find(store, resource_id)
    if existing is not None:
        if "tags" in body:
            existing["tags"] = body["tags"] or {}
            store.put("arm", ids.key(resource_id), existing, parent=ids.key(group["id"]))
        return existing, False
    location = body.get("location") or group["location"]
    tenant_id = subscriptions.tenant_of(store, subscription_id)
    principal = directory.create_managed_identity_principal(
        store, display_name=name, tenant_id=tenant_id, resource_id=resource_id)
    identity = {
        "id": resource_id,
        "name": name,
        "type": IDENTITY_TYPE,
        "location": resource_groups.normalise_location(location),
        "tags": body.get("tags") or {},
        "properties": {
            "tenantId": tenant_id,
            "principalId": principal["id"],
            "clientId": principal["appId"],
        },
    }
    store.put("arm", ids.key(resource_id), identity, parent=ids.key(group["id"]))
    return identity, True
