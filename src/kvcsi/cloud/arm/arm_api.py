"""ARM request dispatch: path → operation → module call, with the caller's RBAC check first.

This is the translation layer between ARM's URL space and the resource modules. It knows
the real paths (``/subscriptions/{s}/resourceGroups/{rg}/providers/{Ns}/{type}/{name}``,
``{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}``, ...), matches keywords
case-insensitively, checks the control-plane action with :func:`rbac.check_action`
(``AuthorizationFailed`` before any existence check, as ARM does) and returns
``(status, body)``. HTTP details live in :mod:`kvcsi.cloud.arm.routes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kvcsi.cloud.arm import (
    authorization_api,
    cascade,
    errors,
    federated_credentials,
    identities,
    ids,
    managed_clusters,
    rbac,
    resource_groups,
    role_assignments,
    subscription_aliases,
    subscriptions,
    vaults,
)
from kvcsi.cloud.arm import vmss as scale_sets
from kvcsi.cloud.store import CloudStore

Result = tuple[int, Any]


@dataclass
class ArmRequest:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    principal_id: str
    group_ids: list[str] = field(default_factory=list)

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


class Dispatcher:
    """One ARM endpoint over one store."""

    def __init__(self, store: CloudStore, endpoints: dict[str, Any]) -> None:
        self.store = store
        self.endpoints = endpoints

    # --- authorisation ------------------------------------------------------------------

    def _allowed(self, request: ArmRequest, action: str, scope: str) -> bool:
        return rbac.check_action(self.store, request.principal_id, action, scope,
                                 request.group_ids).allowed

    def require(self, request: ArmRequest, action: str, scope: str) -> None:
        if not self._allowed(request, action, scope):
            raise errors.authorization_failed(request.principal_id, action, scope)

    def readable(self, request: ArmRequest, action: str, scope: str,
                 items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """List semantics: everything when readable at the list scope, else the readable items,
        else ``AuthorizationFailed``."""
        if self._allowed(request, action, scope):
            return items
        visible = [item for item in items if self._allowed(request, action, item["id"])]
        if not visible:
            raise errors.authorization_failed(request.principal_id, action, scope)
        return visible

    def _has_any_assignment(self, request: ArmRequest, subscription_id: str) -> bool:
        scope = ids.subscription_id_of(subscription_id)
        principals = {request.principal_id.lower(), *(g.lower() for g in request.group_ids)}
        return any(a["properties"]["principalId"].lower() in principals
                   for a in role_assignments.list_for_scope(self.store, scope))

    # --- dispatch -----------------------------------------------------------------------

    def handle(self, request: ArmRequest) -> Result:
        parts = ids.segments(request.path)
        lower = [part.lower() for part in parts]
        authorization = authorization_api.authorization_index(lower)
        if authorization is not None:
            return authorization_api.handle(self, request, parts, authorization)
        if lower == ["tenants"] and request.method == "GET":
            return 200, {"value": [subscriptions.tenant_view(t)
                                   for t in subscriptions.tenants(self.store)]}
        if lower[:3] == ["providers", "microsoft.subscription", "aliases"] and len(parts) == 4:
            return self._subscription_alias(request, parts[3])
        if not lower or lower[0] != "subscriptions":
            raise errors.ArmError(404, "NotFound", f"The requested path '{request.path}' was "
                                                    "not found.")
        if len(parts) == 1 and request.method == "GET":
            return 200, {"value": [s for s in subscriptions.all_subscriptions(self.store)
                                   if self._has_any_assignment(request, s["subscriptionId"])]}
        subscription_id = parts[1]
        if len(parts) == 2 and request.method == "GET":
            found = subscriptions.get_subscription(self.store, subscription_id)
            if not self._has_any_assignment(request, subscription_id):
                raise errors.subscription_not_found(subscription_id)
            return 200, found
        if len(parts) >= 3 and lower[2] == "resourcegroups":
            return self._resource_groups(request, subscription_id, parts)
        if len(parts) >= 5 and lower[2] == "providers":
            return self._subscription_provider(request, subscription_id, parts)
        raise errors.ArmError(404, "NotFound", f"The requested path '{request.path}' was not "
                                                "found.")

    def _subscription_alias(self, request: ArmRequest, name: str) -> Result:
        """``/providers/Microsoft.Subscription/aliases/{name}``: creating one creates a
        subscription whose Owner is the caller."""
        if request.method == "GET":
            return 200, subscription_aliases.get(self.store, name)
        if request.method == "PUT":
            alias, created = subscription_aliases.create(self.store, name, request.body,
                                                         request.principal_id)
            return (201 if created else 200), alias
        raise errors.method_not_allowed(request.method)

    # --- resource groups and the resources in them --------------------------------------

    def _resource_groups(self, request: ArmRequest, subscription_id: str,
                         parts: list[str]) -> Result:
        rg_action = "Microsoft.Resources/subscriptions/resourceGroups"
        sub_scope = ids.subscription_id_of(subscription_id)
        if len(parts) == 3 and request.method == "GET":
            groups = resource_groups.list_groups(self.store, subscription_id)
            return 200, {"value": self.readable(request, f"{rg_action}/read", sub_scope, groups)}
        if len(parts) == 3:
            raise errors.method_not_allowed(request.method)
        name = parts[3]
        scope = "/" + "/".join(parts[:4])  # ARM names the scope as the request spelled it
        if len(parts) == 4:
            if request.method == "PUT":
                self.require(request, f"{rg_action}/write", scope)
                group, created = resource_groups.create_or_update(
                    self.store, subscription_id, name, request.body)
                return (201 if created else 200), group
            if request.method == "GET":
                self.require(request, f"{rg_action}/read", scope)
                return 200, resource_groups.get(self.store, subscription_id, name)
            if request.method == "HEAD":
                self.require(request, f"{rg_action}/read", scope)
                found = resource_groups.find(self.store, subscription_id, name)
                return (204 if found else 404), None
            if request.method == "DELETE":
                self.require(request, f"{rg_action}/delete", scope)
                cascade.delete_resource_group(self.store, subscription_id, name)
                return 200, None
            raise errors.method_not_allowed(request.method)
        if parts[4].lower() != "providers" or len(parts) < 7:
            raise errors.ArmError(404, "NotFound", f"The requested path '{request.path}' was "
                                                    "not found.")
        kind = _resource_kind(parts[5], parts[6], request.api_version)
        if len(parts) == 7:
            if request.method != "GET":
                raise errors.method_not_allowed(request.method)
            items = resource_groups.resources_in(self.store, subscription_id, name,
                                                 kind.provider_type)
            return 200, {"value": self.readable(request, f"{kind.provider_type}/read", scope,
                                                items)}
        resource_name = parts[7]
        resource_scope = "/" + "/".join(parts[:8])
        if len(parts) == 8:
            return self._resource(request, kind, subscription_id, name, resource_name,
                                  resource_scope)
        return self._child(request, kind, subscription_id, name, resource_name, parts[8:],
                           resource_scope)

    def _resource(self, request: ArmRequest, kind: ResourceKind, subscription_id: str,
                  group: str, name: str, scope: str) -> Result:
        method = request.method
        if method == "GET":
            self.require(request, f"{kind.provider_type}/read", scope)
            return 200, kind.get(self.store, subscription_id, group, name)
        if method == "DELETE":
            self.require(request, f"{kind.provider_type}/delete", scope)
            deleted = cascade.delete_typed(self.store, subscription_id, group,
                                           kind.provider_type, name)
            return (200 if deleted else 204), None
        if method in ("PUT", "PATCH"):
            self.require(request, f"{kind.provider_type}/write", scope)
            handler = kind.put if method == "PUT" else kind.patch
            if handler is None:
                raise errors.method_not_allowed(request.method)
            resource, created = handler(self, subscription_id, group, name, request.body)
            return (201 if created else 200), resource
        raise errors.method_not_allowed(request.method)

    def _child(self, request: ArmRequest, kind: ResourceKind, subscription_id: str,
               group: str, name: str, rest: list[str], scope: str) -> Result:
        child_type = rest[0].lower()
        action_base = f"{kind.provider_type}/{rest[0]}"
        if kind.provider_type == managed_clusters.CLUSTER_TYPE and child_type == "agentpools":
            verb = "write" if request.method == "PUT" else "read"
            self.require(request, f"{kind.provider_type}/agentPools/{verb}", scope)
            cluster = managed_clusters.get(self.store, subscription_id, group, name)
            if len(rest) == 1 and request.method == "GET":
                return 200, {"value": managed_clusters.agent_pools(cluster)}
            if len(rest) == 2 and request.method == "GET":
                return 200, managed_clusters.get_agent_pool(cluster, rest[1])
            if len(rest) == 2 and request.method == "PUT":
                pool, created = managed_clusters.set_agent_pool(self.store, cluster, rest[1],
                                                                request.body)
                return (201 if created else 200), pool
        if kind.provider_type == identities.IDENTITY_TYPE \
                and child_type == "federatedidentitycredentials" and len(rest) <= 2:
            return self._federated_credentials(request, subscription_id, group, name, rest,
                                               scope)
        if kind.provider_type == scale_sets.VMSS_TYPE and child_type == "virtualmachines":
            self.require(request, f"{kind.provider_type}/virtualMachines/read", scope)
            scale_set = scale_sets.get(self.store, subscription_id, group, name)
            vms = scale_sets.vms_of(self.store, scale_set)
            if len(rest) == 1 and request.method == "GET":
                return 200, {"value": vms}
            if len(rest) == 2 and request.method == "GET":
                for vm in vms:
                    if vm["instanceId"] == rest[1]:
                        return 200, vm
                raise errors.resource_not_found(f"{kind.provider_type}/virtualMachines",
                                                f"{name}/{rest[1]}", group)
        raise errors.invalid_resource_type(kind.namespace, action_base.split("/", 1)[1],
                                           request.api_version)

    def _federated_credentials(self, request: ArmRequest, subscription_id: str, group: str,
                               identity: str, rest: list[str], scope: str) -> Result:
        """``.../userAssignedIdentities/{name}/federatedIdentityCredentials[/{fic}]``."""
        action = f"{identities.IDENTITY_TYPE}/federatedIdentityCredentials"
        if len(rest) == 1:
            if request.method != "GET":
                raise errors.method_not_allowed(request.method)
            self.require(request, f"{action}/read", scope)
            return 200, {"value": federated_credentials.list_for_identity(
                self.store, subscription_id, group, identity)}
        verb = {"GET": "read", "PUT": "write", "DELETE": "delete"}.get(request.method)
        if verb is None:
            raise errors.method_not_allowed(request.method)
        self.require(request, f"{action}/{verb}", scope)
        if request.method == "GET":
            return 200, federated_credentials.get_for_identity(
                self.store, subscription_id, group, identity, rest[1])
        if request.method == "PUT":
            resource, created = federated_credentials.put_for_identity(
                self.store, subscription_id, group, identity, rest[1], request.body)
            return (201 if created else 200), resource
        deleted = federated_credentials.delete_for_identity(self.store, subscription_id, group,
                                                            identity, rest[1])
        return (200 if deleted else 204), None

    # --- subscription-wide provider paths -----------------------------------------------

    def _subscription_provider(self, request: ArmRequest, subscription_id: str,
                               parts: list[str]) -> Result:
        lower = [part.lower() for part in parts]
        sub_scope = ids.subscription_id_of(subscription_id)
        subscriptions.get_subscription(self.store, subscription_id)
        if lower[3] == "microsoft.keyvault" and lower[4] in ("deletedvaults", "locations"):
            return self._deleted_vaults(request, subscription_id, parts)
        kind = _resource_kind(parts[3], parts[4], request.api_version)
        if len(parts) != 5 or request.method != "GET":
            raise errors.method_not_allowed(request.method)
        items = resource_groups.resources_of_type(self.store, subscription_id, kind.provider_type)
        return 200, {"value": self.readable(request, f"{kind.provider_type}/read", sub_scope,
                                            items)}

    def _deleted_vaults(self, request: ArmRequest, subscription_id: str,
                        parts: list[str]) -> Result:
        lower = [part.lower() for part in parts]
        sub_scope = ids.subscription_id_of(subscription_id)
        if lower[4:] == ["deletedvaults"] and request.method == "GET":
            self.require(request, "Microsoft.KeyVault/deletedVaults/read", sub_scope)
            return 200, {"value": vaults.list_deleted(self.store, subscription_id)}
        if len(parts) >= 8 and lower[4] == "locations" and lower[6] == "deletedvaults":
            location, name = parts[5], parts[7]
            if len(parts) == 8 and request.method == "GET":
                self.require(request, "Microsoft.KeyVault/locations/deletedVaults/read",
                             sub_scope)
                return 200, vaults.deleted_view(
                    vaults.get_deleted(self.store, subscription_id, location, name))
            if len(parts) == 9 and lower[8] == "purge" and request.method == "POST":
                self.require(request, "Microsoft.KeyVault/locations/deletedVaults/purge/action",
                             sub_scope)
                vaults.purge(self.store, subscription_id, location, name)
                return 200, None
        raise errors.method_not_allowed(request.method)

    # --- Microsoft.Authorization ----------------------------------------------------------

# --- resource kinds ---------------------------------------------------------------------

Putter = Callable[[Dispatcher, str, str, str, dict[str, Any]], tuple[dict[str, Any], bool]]


@dataclass(frozen=True)
class ResourceKind:
    namespace: str
    resource_type: str
    get: Callable[[CloudStore, str, str, str], dict[str, Any]]
    put: Putter | None
    patch: Putter | None

    @property
    def provider_type(self) -> str:
        return f"{self.namespace}/{self.resource_type}"


def _put_vault(d: Dispatcher, sub: str, group: str, name: str,
               body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    return vaults.create_or_update(d.store, d.endpoints, sub, group, name, body)


def _patch_vault(d: Dispatcher, sub: str, group: str, name: str,
                 body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    current = vaults.get(d.store, sub, group, name)
    merged = {"location": current["location"],
              "tags": body.get("tags", current.get("tags")),
              "properties": {**current["properties"], **(body.get("properties") or {})}}
    return vaults.create_or_update(d.store, d.endpoints, sub, group, name, merged)[0], False


def _put_identity(d: Dispatcher, sub: str, group: str, name: str,
                  body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    return identities.create_or_update(d.store, sub, group, name, body)


def _put_cluster(d: Dispatcher, sub: str, group: str, name: str,
                 body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    return managed_clusters.create_or_update(d.store, sub, group, name, body, d.endpoints)


def _update_vmss(d: Dispatcher, sub: str, group: str, name: str,
                 body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    scale_set = scale_sets.get(d.store, sub, group, name)
    if "identity" in body:
        scale_set = scale_sets.update_identity(d.store, scale_set, body["identity"] or {})
    return scale_set, False


_KINDS = {
    (kind.namespace.lower(), kind.resource_type.lower()): kind for kind in (
        ResourceKind("Microsoft.KeyVault", "vaults", vaults.get, _put_vault, _patch_vault),
        ResourceKind("Microsoft.ManagedIdentity", "userAssignedIdentities", identities.get,
                     _put_identity, _put_identity),
        ResourceKind("Microsoft.ContainerService", "managedClusters", managed_clusters.get,
                     _put_cluster, None),
        ResourceKind("Microsoft.Compute", "virtualMachineScaleSets", scale_sets.get,
                     _update_vmss, _update_vmss),
    )
}
_NAMESPACES = {namespace for namespace, _ in _KINDS}


def _resource_kind(namespace: str, resource_type: str, api_version: str) -> ResourceKind:
    kind = _KINDS.get((namespace.lower(), resource_type.lower()))
    if kind is not None:
        return kind
    if namespace.lower() not in _NAMESPACES:
        raise errors.invalid_resource_namespace(namespace)
    raise errors.invalid_resource_type(namespace, resource_type, api_version)
