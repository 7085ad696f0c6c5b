"""AKS add-ons that bring their own identity: ``azureKeyvaultSecretsProvider``.

Upstream counterpart: ``az aks enable-addons --addons azure-keyvault-secrets-provider``
(and ``disable-addons``). Enabling it makes AKS create the user-assigned identity
``azurekeyvaultsecretsprovider-{cluster}`` in the node resource group, attach it to every
node pool's scale set (next to the kubelet identity, so IMDS now holds two user-assigned
identities) and report it under ``addonProfiles.azureKeyvaultSecretsProvider.identity``
``{clientId, objectId, resourceId}``. Disabling detaches and deletes it.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.arm import identities, ids, resource_groups
from kvcsi.cloud.arm import vmss as scale_sets
from kvcsi.cloud.store import CloudStore

SECRETS_PROVIDER = "azureKeyvaultSecretsProvider"
DEFAULT_SECRETS_PROVIDER_CONFIG = {"enableSecretRotation": "false",
                                   "rotationPollInterval": "2m"}


def addon_identity_name(cluster_name: str) -> str:
    return f"azurekeyvaultsecretsprovider-{cluster_name.lower()}"


def _profile_key(profiles: dict[str, Any], wanted: str) -> str | None:
    return next((key for key in profiles if key.lower() == wanted.lower()), None)


def _node_group(store: CloudStore, cluster: dict[str, Any]) -> dict[str, Any]:
    subscription_id = ids.subscription_of(cluster["id"]) or ""
    return resource_groups.get(store, subscription_id, cluster["properties"]["nodeResourceGroup"])


def pool_scale_sets(store: CloudStore, cluster: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node pool scale set of the cluster (the ones in its node resource group)."""
    group = _node_group(store, cluster)
    return [doc for doc in store.children("arm", ids.key(group["id"]))
            if doc.get("type") == scale_sets.VMSS_TYPE]


def addon_identity_ids(cluster: dict[str, Any]) -> list[str]:
    """Resource ids of the enabled add-on identities (attached to new pools too)."""
    found = []
    for profile in (cluster["properties"].get("addonProfiles") or {}).values():
        identity = (profile or {}).get("identity") or {}
        if profile.get("enabled") and identity.get("resourceId"):
            found.append(identity["resourceId"])
    return found


def apply(store: CloudStore, cluster: dict[str, Any], requested: dict[str, Any]) -> None:
    """Merge the requested ``addonProfiles`` into the cluster, creating or removing the
    secrets provider identity as its ``enabled`` flag changes (the caller saves it)."""
    profiles: dict[str, Any] = dict(cluster["properties"].get("addonProfiles") or {})
    for name, wanted in (requested or {}).items():
        key = _profile_key(profiles, name) or name
        current = profiles.get(key) or {}
        enabled = bool((wanted or {}).get("enabled"))
        if key.lower() != SECRETS_PROVIDER.lower():
            profiles[key] = {"enabled": enabled, "config": (wanted or {}).get("config")}
            continue
        if enabled:
            config = {**DEFAULT_SECRETS_PROVIDER_CONFIG, **((wanted or {}).get("config") or {})}
            identity = current.get("identity") if current.get("enabled") else None
            if identity is None:
                identity = _create_identity(store, cluster)
            profiles.pop(key, None)
            profiles[SECRETS_PROVIDER] = {"enabled": True, "config": config,
                                          "identity": identity}
        else:
            if current.get("enabled") and (current.get("identity") or {}).get("resourceId"):
                _delete_identity(store, cluster, current["identity"]["resourceId"])
            profiles[key] = {"enabled": False, "config": None}
    cluster["properties"]["addonProfiles"] = profiles


def _create_identity(store: CloudStore, cluster: dict[str, Any]) -> dict[str, str]:
    group = _node_group(store, cluster)
    identity, _ = identities.create_or_update(
        store, ids.subscription_of(cluster["id"]) or "", group["name"],
        addon_identity_name(cluster["name"]), {"location": cluster["location"]})
    for scale_set in pool_scale_sets(store, cluster):
        scale_sets.attach_user_assigned(store, scale_set, identity["id"])
    return {"clientId": identity["properties"]["clientId"],
            "objectId": identity["properties"]["principalId"],
            "resourceId": identity["id"]}


def _delete_identity(store: CloudStore, cluster: dict[str, Any], resource_id: str) -> None:
    from kvcsi.cloud.arm import cascade

    for scale_set in pool_scale_sets(store, cluster):
        scale_sets.detach_user_assigned(store, scale_set, resource_id)
    identity = identities.find(store, resource_id)
    if identity is not None:
        cascade.delete_resource(store, identity)
