"""The ARM additions behind the az CLI: the secrets-provider add-on identity, subscription
aliases and Graph application registrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from arm_fixtures import bootstrapped_store

from kvcsi.cloud.arm import (
    addons,
    app_secrets,
    directory,
    errors,
    graph_applications,
    identities,
    managed_clusters,
    resource_groups,
    role_assignments,
    subscription_aliases,
    subscriptions,
)
from kvcsi.cloud.arm.identities import IDENTITY_TYPE
from kvcsi.cloud.store import CloudStore

ENABLE = {addons.SECRETS_PROVIDER: {"enabled": True}}


@pytest.fixture
def cluster_env(tmp_path: Path) -> tuple[CloudStore, str, dict[str, Any]]:
    store, found = bootstrapped_store(tmp_path)
    sub = found.subscription_id
    resource_groups.create_or_update(store, sub, "rg", {"location": "eastus"})
    cluster, _ = managed_clusters.create_or_update(store, sub, "rg", "Aks1", {
        "properties": {"agentPoolProfiles": [{"name": "nodepool1", "count": 1}]}})
    return store, sub, cluster


def _user_assigned(scale_set: dict[str, Any]) -> list[str]:
    return [rid.rsplit("/", 1)[1] for rid in scale_set["identity"]["userAssignedIdentities"]]


def test_enabling_creates_and_attaches_the_identity_new_pools_get_it_too(
        cluster_env: tuple[CloudStore, str, dict[str, Any]]) -> None:
    store, sub, cluster = cluster_env
    updated, created = managed_clusters.create_or_update(
        store, sub, "rg", "Aks1", {"properties": {"addonProfiles": ENABLE}})
    assert created is False
    profile = updated["properties"]["addonProfiles"][addons.SECRETS_PROVIDER]
    identity = identities.get(store, sub, "MC_rg_Aks1_eastus", "azurekeyvaultsecretsprovider-aks1")
    assert profile == {"enabled": True, "config": addons.DEFAULT_SECRETS_PROVIDER_CONFIG,
                       "identity": {"clientId": identity["properties"]["clientId"],
                                    "objectId": identity["properties"]["principalId"],
                                    "resourceId": identity["id"]}}
    [scale_set] = addons.pool_scale_sets(store, updated)
    assert _user_assigned(scale_set) == ["Aks1-agentpool", "azurekeyvaultsecretsprovider-aks1"]
    managed_clusters.set_agent_pool(store, updated, "pool2", {"properties": {"count": 1}})
    pools = addons.pool_scale_sets(store, updated)
    assert [_user_assigned(s) for s in pools] == [
        ["Aks1-agentpool", "azurekeyvaultsecretsprovider-aks1"]] * 2
    # the same request again keeps the same identity
    again, _ = managed_clusters.create_or_update(
        store, sub, "rg", "Aks1", {"properties": {"addonProfiles": ENABLE}})
    assert again["properties"]["addonProfiles"][addons.SECRETS_PROVIDER]["identity"] == \
        profile["identity"]


def test_disabling_detaches_and_deletes_the_identity(
        cluster_env: tuple[CloudStore, str, dict[str, Any]]) -> None:
    store, sub, cluster = cluster_env
    enabled, _ = managed_clusters.create_or_update(
        store, sub, "rg", "Aks1", {"properties": {"addonProfiles": ENABLE}})
    principal = enabled["properties"]["addonProfiles"][addons.SECRETS_PROVIDER]["identity"][
        "objectId"]
    disabled, _ = managed_clusters.create_or_update(store, sub, "rg", "Aks1", {
        "properties": {"addonProfiles": {"azureKeyVaultSecretsProvider": {"enabled": False}}}})
    assert disabled["properties"]["addonProfiles"] == {
        addons.SECRETS_PROVIDER: {"enabled": False, "config": None}}
    assert [_user_assigned(s) for s in addons.pool_scale_sets(store, disabled)] == [
        ["Aks1-agentpool"]]
    assert directory.principal_by_object_id(store, principal) is None
    assert not [d for d in store.scan("arm") if d.get("type") == IDENTITY_TYPE
                and d["name"].startswith("azurekeyvault")]


def test_create_with_the_addon(tmp_path: Path) -> None:
    store, found = bootstrapped_store(tmp_path)
    resource_groups.create_or_update(store, found.subscription_id, "rg", {"location": "eastus"})
    cluster, _ = managed_clusters.create_or_update(
        store, found.subscription_id, "rg", "Aks2",
        {"properties": {"agentPoolProfiles": [{"name": "np", "count": 2}],
                        "addonProfiles": ENABLE}})
    assert cluster["properties"]["addonProfiles"][addons.SECRETS_PROVIDER]["enabled"] is True
    assert [_user_assigned(s) for s in addons.pool_scale_sets(store, cluster)] == [
        ["Aks2-agentpool", "azurekeyvaultsecretsprovider-aks2"]]


def test_subscription_alias_creates_a_subscription_owned_by_the_caller(tmp_path: Path) -> None:
    store, found = bootstrapped_store(tmp_path)
    alias, created = subscription_aliases.create(
        store, "second", {"properties": {"displayName": "Second"}}, found.local_object_id)
    new_sub = alias["properties"]["subscriptionId"]
    assert (created, alias["id"]) == (True, "/providers/Microsoft.Subscription/aliases/second")
    subscription = subscriptions.get_subscription(store, new_sub)
    assert (subscription["displayName"], subscription["tenantId"]) == ("Second",
                                                                       found.tenant_id)
    [owner] = role_assignments.list_for_scope(store, f"/subscriptions/{new_sub}",
                                              at_scope=True)
    assert owner["properties"]["principalId"] == found.local_object_id
    assert owner["properties"]["roleDefinitionId"].endswith(
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
    assert subscription_aliases.create(store, "SECOND", {}, "")[1] is False
    with pytest.raises(errors.ArmError) as missing:
        subscription_aliases.get(store, "third")
    assert (missing.value.status, missing.value.code) == (404, "ResourceNotFound")


def test_graph_application_service_principal_and_password(tmp_path: Path) -> None:
    store, _ = bootstrapped_store(tmp_path)
    application = graph_applications.create_application(store, {"displayName": "ci"})
    assert application["@odata.context"].endswith("#applications/$entity")
    principal = graph_applications.create_service_principal(
        store, {"appId": application["appId"]})
    assert (principal["appId"], principal["displayName"]) == (application["appId"], "ci")
    password = graph_applications.add_password(store, application["id"], {})
    assert app_secrets.verify_client_secret(store, application["appId"],
                                            password["secretText"])
    shown = graph_applications.get_application(store, application["id"])
    assert [c["keyId"] for c in shown["passwordCredentials"]] == [password["keyId"]]
    assert shown["passwordCredentials"][0]["secretText"] is None
    listed = graph_applications.list_applications(store, f"appId eq '{application['appId']}'")
    assert [a["id"] for a in listed["value"]] == [application["id"]]
    with pytest.raises(errors.ArmError) as twice:
        graph_applications.create_service_principal(store, {"appId": application["appId"]})
    assert twice.value.status == 409
    with pytest.raises(errors.ArmError) as unknown:
        graph_applications.add_password(store, "nope", {})
    assert unknown.value.code == "Request_ResourceNotFound"
    with pytest.raises(errors.ArmError) as unnamed:
        graph_applications.create_application(store, {})
    assert (unnamed.value.status, unnamed.value.message) == (
        400, "Property displayName is required.")
