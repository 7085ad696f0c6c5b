"""Tenants and subscriptions: ``GET /tenants``, ``GET /subscriptions[/{id}]``.

Upstream counterpart: ARM's Microsoft.Resources subscriptions and tenants APIs, as
``az account list`` reads them. Tenants are kind ``tenant`` (§3.1); a subscription is an
``arm`` document keyed ``/subscriptions/{id}`` with parent ``""``.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.arm import errors, ids
from kvcsi.cloud.store import CloudStore

TENANT = "tenant"


def create_tenant(store: CloudStore, tenant_id: str, display_name: str,
                  default_domain: str) -> dict[str, Any]:
    tenant = {"tenantId": tenant_id, "displayName": display_name,
              "defaultDomain": default_domain}
    store.put(TENANT, tenant_id, tenant)
    return tenant


def tenants(store: CloudStore) -> list[dict[str, Any]]:
    return store.scan(TENANT)


def tenant_view(tenant: dict[str, Any]) -> dict[str, Any]:
    """A tenant as ``GET /tenants`` lists it."""
    return {
        "id": f"/tenants/{tenant['tenantId']}",
        "tenantId": tenant["tenantId"],
        "countryCode": "US",
        "displayName": tenant["displayName"],
        "domains": [tenant["defaultDomain"]],
        "defaultDomain": tenant["defaultDomain"],
        "tenantCategory": "Home",
        "tenantType": "AAD",
    }


def create_subscription(store: CloudStore, subscription_id: str, tenant_id: str,
                        display_name: str) -> dict[str, Any]:
    subscription = {
        "id": ids.subscription_id_of(subscription_id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": subscription_id,
        "tenantId": tenant_id,
        "displayName": display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }
    store.put("arm", ids.key(subscription["id"]), subscription)
    return subscription


def all_subscriptions(store: CloudStore) -> list[dict[str, Any]]:
    return [doc for doc in store.children("arm", "") if "subscriptionId" in doc]


def get_subscription(store: CloudStore, subscription_id: str) -> dict[str, Any]:
    """The subscription, or ``SubscriptionNotFound``."""
    found = store.get("arm", ids.key(ids.subscription_id_of(subscription_id)))
    if found is None:
        raise errors.subscription_not_found(subscription_id)
    return found


def tenant_of(store: CloudStore, subscription_id: str) -> str:
    return get_subscription(store, subscription_id)["tenantId"]
