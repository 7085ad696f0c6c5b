"""AKS managed clusters as ``az aks create`` leaves them, and their agent pools.

Upstream counterpart: Microsoft.ContainerService ``managedClusters`` and
``managedClusters/agentPools``. Creating a cluster also creates what the AKS resource
provider creates: the node resource group ``MC_{rg}_{cluster}_{location}``, the kubelet
identity ``{cluster}-agentpool`` (user-assigned, in the node resource group), one VMSS
``aks-{pool}-{8 digits}-vmss`` per pool carrying that identity only, its VMs, and the
cluster's own system-assigned identity. Changing a pool's ``count`` adds or removes VMs.

OIDC issuer (``--enable-oidc-issuer``): locally on by default — ``oidcIssuerProfile`` is
``{"enabled": true, "issuerURL": "https://localhost:{port}/oidc/{tenant}/{uid}/"}`` unless
the create body says ``"enabled": false``; a later PUT with ``"enabled": true`` turns it on
(it cannot be turned off, as in AKS). Every new cluster gets its own service-account signing
key (:mod:`kvcsi.cloud.aks_oidc`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from kvcsi.cloud.aks_oidc import cluster_urls, signing_keys
from kvcsi.cloud.arm import (
    addons,
    directory,
    errors,
    identities,
    ids,
    resource_groups,
    subscriptions,
)
from kvcsi.cloud.arm import vmss as scale_sets
from kvcsi.cloud.store import CloudStore

CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters"
RETURNED_CLUSTER_TYPE = "Microsoft.ContainerService/ManagedClusters"
AGENT_POOL_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"
KUBERNETES_VERSION = "1.33.2"
NODE_IMAGE_VERSION = "AKSUbuntu-2204gen2containerd-202507.21.0"
DEFAULT_POOL = {"name": "nodepool1", "count": 3, "vmSize": "Standard_DS2_v2", "mode": "System"}


def cluster_id(subscription_id: str, resource_group: str, name: str) -> str:
    return ids.resource_id(subscription_id, resource_group, CLUSTER_TYPE, name)


def node_resource_group_name(resource_group: str, cluster: str, location: str) -> str:
    return f"MC_{resource_group}_{cluster}_{location}"


def pool_digits(resource_id: str) -> str:
    """The 8 digits AKS puts in VMSS names; stable for one cluster id."""
    digest = hashlib.sha256(ids.key(resource_id).encode()).hexdigest()
    return f"{int(digest, 16) % 10**8:08d}"


def vmss_name(resource_id: str, pool: str) -> str:
    return f"aks-{pool}-{pool_digits(resource_id)}-vmss"


def get(store: CloudStore, subscription_id: str, resource_group: str,
        name: str) -> dict[str, Any]:
    group = resource_groups.get(store, subscription_id, resource_group)
    found = store.get("arm", ids.key(cluster_id(subscription_id, group["name"], name)))
    if found is None or found["type"] != RETURNED_CLUSTER_TYPE:
        raise errors.resource_not_found(CLUSTER_TYPE, name, resource_group)
    return found


def _pool_profile(requested: dict[str, Any], version: str) -> dict[str, Any]:
    profile = {
        "name": requested.get("name") or DEFAULT_POOL["name"],
        "count": int(requested.get("count", DEFAULT_POOL["count"])),
        "vmSize": requested.get("vmSize") or DEFAULT_POOL["vmSize"],
        "osDiskSizeGB": requested.get("osDiskSizeGB") or 128,
        "osDiskType": "Managed",
        "kubeletDiskType": "OS",
        "maxPods": requested.get("maxPods") or 110,
        "type": "VirtualMachineScaleSets",
        "enableAutoScaling": False,
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "orchestratorVersion": version,
        "currentOrchestratorVersion": version,
        "enableNodePublicIP": False,
        "mode": requested.get("mode") or DEFAULT_POOL["mode"],
        "osType": "Linux",
        "osSKU": "Ubuntu",
        "nodeImageVersion": NODE_IMAGE_VERSION,
        "enableFIPS": False,
    }
    if profile["count"] < 0 or profile["count"] > 1000:
        raise errors.invalid_parameter("agentPoolProfile.count",
                                       "The value of parameter agentPoolProfile.count is "
                                       "invalid. Please see https://aka.ms/aks-naming-rules "
                                       "for more details.")
    return profile


def _oidc_issuer_profile(endpoints: Any, tenant_id: str, resource_id: str,
                         enabled: bool) -> dict[str, Any]:
    if not enabled or endpoints is None:
        return {"enabled": False}
    authority = endpoints.get("authority") or f"https://localhost:{endpoints['https_port']}/"
    return {"enabled": True,
            "issuerURL": cluster_urls.issuer_url(authority, tenant_id, resource_id)}


def _oidc_requested(properties: dict[str, Any]) -> bool | None:
    requested = (properties.get("oidcIssuerProfile") or {}).get("enabled")
    return None if requested is None else bool(requested)


def create_or_update(store: CloudStore, subscription_id: str, resource_group: str, name: str,
                     body: dict[str, Any], endpoints: Any = None) -> tuple[dict[str, Any], bool]:
    """``endpoints`` (the cloud's, for the issuer URL): without it the issuer stays off."""
    group = resource_groups.get(store, subscription_id, resource_group)
    resource_id = cluster_id(subscription_id, group["name"], name)
    properties = body.get("properties") or {}
    existing = store.get("arm", ids.key(resource_id))
    if existing is not None:
        profile = existing["properties"].get("oidcIssuerProfile") or {}
        if _oidc_requested(properties) and not profile.get("enabled"):
            existing["properties"]["oidcIssuerProfile"] = _oidc_issuer_profile(
                endpoints, subscriptions.tenant_of(store, subscription_id), resource_id, True)
            _save(store, existing)
        for requested in properties.get("agentPoolProfiles") or []:
            set_agent_pool(store, existing, requested.get("name") or DEFAULT_POOL["name"],
                           {"properties": requested})
        existing = store.get("arm", ids.key(resource_id)) or existing
        if "tags" in body:
            existing["tags"] = body["tags"] or {}
        if "addonProfiles" in properties:
            with store.transaction():
                addons.apply(store, existing, properties["addonProfiles"] or {})
        _save(store, existing)
        return existing, False
    location = resource_groups.normalise_location(body.get("location") or group["location"])
    tenant_id = subscriptions.tenant_of(store, subscription_id)
    version = properties.get("kubernetesVersion") or KUBERNETES_VERSION
    node_group_name = properties.get("nodeResourceGroup") or node_resource_group_name(
        group["name"], name, location)
    with store.transaction():
        resource_groups.create_or_update(store, subscription_id, node_group_name,
                                         {"location": location}, managed_by=resource_id)
        kubelet, _ = identities.create_or_update(
            store, subscription_id, node_group_name, f"{name}-agentpool",
            {"location": location})
        cluster_principal = directory.create_managed_identity_principal(
            store, display_name=name, tenant_id=tenant_id, resource_id=resource_id)
        dns_prefix = properties.get("dnsPrefix") or \
            f"{name[:10]}-{group['name'][:16]}-{subscription_id[:6]}"
        profiles = [_pool_profile(requested, version)
                    for requested in (properties.get("agentPoolProfiles") or [DEFAULT_POOL])]
        cluster = {
            "id": resource_id,
            "location": location,
            "name": name,
            "type": RETURNED_CLUSTER_TYPE,
            "tags": body.get("tags") or {},
            "sku": {"name": "Base", "tier": "Free"},
            "identity": {"type": "SystemAssigned", "principalId": cluster_principal["id"],
                         "tenantId": tenant_id},
            "properties": {
                "provisioningState": "Succeeded",
                "powerState": {"code": "Running"},
                "kubernetesVersion": version,
                "currentKubernetesVersion": version,
                "dnsPrefix": dns_prefix,
                "fqdn": f"{dns_prefix}-{pool_digits(resource_id)[:8]}.hcp.{location}.azmk8s.io",
                "azurePortalFQDN": f"{dns_prefix}-{pool_digits(resource_id)[:8]}.portal.hcp."
                                   f"{location}.azmk8s.io",
                "agentPoolProfiles": profiles,
                "nodeResourceGroup": node_group_name,
                "enableRBAC": True,
                "supportPlan": "KubernetesOfficial",
                "identityProfile": {"kubeletidentity": {
                    "resourceId": kubelet["id"],
                    "clientId": kubelet["properties"]["clientId"],
                    "objectId": kubelet["properties"]["principalId"],
                }},
                "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                                   "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16",
                                   "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer"},
                "oidcIssuerProfile": _oidc_issuer_profile(
                    endpoints, tenant_id, resource_id, _oidc_requested(properties) is not False),
                "maxAgentPools": 100,
            },
        }
        _save(store, cluster)
        signing_keys.create_cluster_key(store, cluster)
        for profile in profiles:
            _create_pool_vmss(store, cluster, profile)
        if properties.get("addonProfiles"):
            addons.apply(store, cluster, properties["addonProfiles"])
            _save(store, cluster)
    return cluster, True


def _save(store: CloudStore, cluster: dict[str, Any]) -> None:
    store.put("arm", ids.key(cluster["id"]), cluster,
              parent=ids.key(ids.resource_group_of(cluster["id"]) or ""))


def _create_pool_vmss(store: CloudStore, cluster: dict[str, Any],
                      profile: dict[str, Any]) -> dict[str, Any]:
    kubelet_id = cluster["properties"]["identityProfile"]["kubeletidentity"]["resourceId"]
    return scale_sets.create_scale_set(
        store, subscription_id=ids.subscription_of(cluster["id"]) or "",
        resource_group=cluster["properties"]["nodeResourceGroup"],
        name=vmss_name(cluster["id"], profile["name"]), location=cluster["location"],
        vm_size=profile["vmSize"], capacity=profile["count"],
        user_assigned_ids=[kubelet_id, *addons.addon_identity_ids(cluster)],
        tags={"aks-managed-poolName": profile["name"],
              "aks-managed-orchestrator": f"Kubernetes:{profile['orchestratorVersion']}"})


def pool_vmss(store: CloudStore, cluster: dict[str, Any], pool: str) -> dict[str, Any] | None:
    node_group = resource_groups.find(store, ids.subscription_of(cluster["id"]) or "",
                                      cluster["properties"]["nodeResourceGroup"])
    if node_group is None:
        return None
    return store.get("arm", ids.key(scale_sets.vmss_id(
        ids.subscription_of(cluster["id"]) or "", node_group["name"],
        vmss_name(cluster["id"], pool))))


def agent_pool_view(cluster: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{cluster['id']}/agentPools/{profile['name']}",
        "name": profile["name"],
        "type": AGENT_POOL_TYPE,
        "properties": {key: value for key, value in profile.items() if key != "name"},
    }


def agent_pools(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    return [agent_pool_view(cluster, p) for p in cluster["properties"]["agentPoolProfiles"]]


def get_agent_pool(cluster: dict[str, Any], pool: str) -> dict[str, Any]:
    for profile in cluster["properties"]["agentPoolProfiles"]:
        if profile["name"].lower() == pool.lower():
            return agent_pool_view(cluster, profile)
    raise errors.resource_not_found(f"{CLUSTER_TYPE}/agentPools",
                                    f"{cluster['name']}/{pool}",
                                    ids.resource_group_of(cluster["id"]).split("/")[-1]
                                    if ids.resource_group_of(cluster["id"]) else "")


def set_agent_pool(store: CloudStore, cluster: dict[str, Any], pool: str,
                   body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``PUT .../agentPools/{pool}``: create the pool, or change its count (adds/removes VMs)."""
    requested = {**(body.get("properties") or {}), "name": pool}
    profiles = cluster["properties"]["agentPoolProfiles"]
    with store.transaction():
        current = next((p for p in profiles if p["name"].lower() == pool.lower()), None)
        if current is None:
            profile = _pool_profile(requested, cluster["properties"]["kubernetesVersion"])
            profiles.append(profile)
            _save(store, cluster)
            _create_pool_vmss(store, cluster, profile)
            return agent_pool_view(cluster, profile), True
        if "count" in requested:
            current["count"] = _pool_profile({**current, **requested}, "")["count"]
        _save(store, cluster)
        scale_set = pool_vmss(store, cluster, current["name"])
        if scale_set is not None:
            scale_sets.set_capacity(store, scale_set, current["count"])
        return agent_pool_view(cluster, current), False
