"""Resource groups: create or update, get, list (deletion with its contents is ``cascade``).

Upstream counterpart: Microsoft.Resources ``resourcegroups`` (``az group create|show|list``).
Names are case-insensitive; the first spelling is kept. A resource group is an ``arm``
document whose parent is its subscription.
"""

from __future__ import annotations

import re
from typing import Any

from kvcsi.cloud.arm import errors, ids, subscriptions
from kvcsi.cloud.store import CloudStore

RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"
_NAME = re.compile(r"^[-\w.()]{1,90}$")


def same_location(a: str, b: str) -> bool:
    return a.replace(" ", "").lower() == b.replace(" ", "").lower()


def normalise_location(location: str) -> str:
    """``West Europe`` → ``westeurope``, as ARM reports locations."""
    return location.replace(" ", "").lower()


def find(store: CloudStore, subscription_id: str, name: str) -> dict[str, Any] | None:
    return store.get("arm", ids.key(ids.resource_group_id(subscription_id, name)))


def get(store: CloudStore, subscription_id: str, name: str) -> dict[str, Any]:
    """The resource group, or ``ResourceGroupNotFound`` (``SubscriptionNotFound`` first)."""
    subscriptions.get_subscription(store, subscription_id)
    found = find(store, subscription_id, name)
    if found is None:
        raise errors.resource_group_not_found(name)
    return found


def create_or_update(store: CloudStore, subscription_id: str, name: str,
                     body: dict[str, Any], managed_by: str | None = None
                     ) -> tuple[dict[str, Any], bool]:
    """``PUT`` semantics: returns ``(resource group, created)``."""
    subscriptions.get_subscription(store, subscription_id)
    if not _NAME.match(name) or name.endswith("."):
        raise errors.invalid_resource_group_name(name)
    location = body.get("location")
    if not location:
        raise errors.location_required()
    existing = find(store, subscription_id, name)
    if existing is not None:
        if not same_location(existing["location"], location):
            raise errors.invalid_resource_group_location(location, existing["location"])
        if "tags" in body:
            existing["tags"] = body["tags"] or {}
        store.put("arm", ids.key(existing["id"]), existing,
                  parent=ids.key(ids.subscription_id_of(subscription_id)))
        return existing, False
    group: dict[str, Any] = {
        "id": ids.resource_group_id(subscription_id, name),
        "name": name,
        "type": RESOURCE_GROUP_TYPE,
        "location": normalise_location(location),
        "tags": body.get("tags") or {},
        "properties": {"provisioningState": "Succeeded"},
    }
    if managed_by or body.get("managedBy"):
        group["managedBy"] = managed_by or body["managedBy"]
    store.put("arm", ids.key(group["id"]), group,
              parent=ids.key(ids.subscription_id_of(subscription_id)))
    return group, True


def list_groups(store: CloudStore, subscription_id: str) -> list[dict[str, Any]]:
    subscriptions.get_subscription(store, subscription_id)
    return [doc for doc in store.children("arm", ids.key(ids.subscription_id_of(subscription_id)))
            if doc.get("type") == RESOURCE_GROUP_TYPE]


def resources_in(store: CloudStore, subscription_id: str, name: str,
                 resource_type: str | None = None) -> list[dict[str, Any]]:
    """Top-level resources in a resource group, optionally of one ``Namespace/type``."""
    group = get(store, subscription_id, name)
    docs = store.children("arm", ids.key(group["id"]))
    if resource_type is None:
        return docs
    return [doc for doc in docs if doc["type"].lower() == resource_type.lower()]


def resources_of_type(store: CloudStore, subscription_id: str,
                      resource_type: str) -> list[dict[str, Any]]:
    """Every top-level resource of ``Namespace/type`` in the subscription."""
    found = []
    for group in list_groups(store, subscription_id):
        found += [doc for doc in store.children("arm", ids.key(group["id"]))
                  if doc["type"].lower() == resource_type.lower()]
    return found
