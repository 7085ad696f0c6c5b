"""Key vaults as ARM resources: create or update, get, list, soft delete, recover, purge.

Upstream counterpart: Microsoft.KeyVault ``vaults`` and ``deletedVaults``
(``az keyvault create|show|list|delete|recover|purge``). Vault names are globally unique in
the local cloud: kind ``vault-name`` (key = name lower-cased, body ``{"id"}``) indexes live
vaults, which is also how Key Vault finds the vault behind a host name
(:func:`vault_by_name`). A deleted vault waits in kind ``deleted-vault`` (key = name
lower-cased) until it is recovered or purged; purging drops its Key Vault objects.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from kvcsi.cloud.arm import errors, ids, resource_groups, subscriptions
from kvcsi.cloud.store import CloudStore

VAULT_TYPE = "Microsoft.KeyVault/vaults"
DELETED_VAULT_TYPE = "Microsoft.KeyVault/deletedVaults"
VAULT_NAME = "vault-name"
DELETED_VAULT = "deleted-vault"
KEY_VAULT_OBJECT_KINDS = ("kv-secret", "kv-key", "kv-certificate")
_NAME = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$")


def vault_uri(endpoints: dict[str, Any], name: str) -> str:
    suffix = endpoints.get("keyvault_dns_suffix") or f"vault.localhost:{endpoints['https_port']}"
    return f"https://{name.lower()}.{suffix}/"


def vault_id(subscription_id: str, resource_group: str, name: str) -> str:
    return ids.resource_id(subscription_id, resource_group, VAULT_TYPE, name)


def vault_by_name(store: CloudStore, name: str) -> dict[str, Any] | None:
    """The live vault called ``name`` (any case) anywhere in the local cloud."""
    entry = store.get(VAULT_NAME, name.lower())
    return None if entry is None else store.get("arm", ids.key(entry["id"]))


def get(store: CloudStore, subscription_id: str, resource_group: str,
        name: str) -> dict[str, Any]:
    group = resource_groups.get(store, subscription_id, resource_group)
    found = store.get("arm", ids.key(vault_id(subscription_id, group["name"], name)))
    if found is None:
        raise errors.resource_not_found(VAULT_TYPE, name, resource_group)
    return found


def _properties(body_properties: dict[str, Any], tenant_id: str, uri: str) -> dict[str, Any]:
    properties = {
        "sku": {"family": "A", "name": "standard"},
        "tenantId": tenant_id,
        "accessPolicies": [],
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": True,
        "publicNetworkAccess": "Enabled",
    }
    properties.update({k: v for k, v in body_properties.items()
                       if v is not None and k not in ("vaultUri", "provisioningState",
                                                      "createMode")})
    properties["accessPolicies"] = properties.get("accessPolicies") or []
    properties["vaultUri"] = uri
    properties["provisioningState"] = "Succeeded"
    return properties


def create_or_update(store: CloudStore, endpoints: dict[str, Any], subscription_id: str,
                     resource_group: str, name: str,
                     body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    group = resource_groups.get(store, subscription_id, resource_group)
    if not _NAME.match(name):
        raise errors.vault_name_not_valid(name)
    location = body.get("location")
    if not location:
        raise errors.location_required()
    body_properties = dict(body.get("properties") or {})
    resource_id = vault_id(subscription_id, group["name"], name)
    with store.transaction():
        taken = store.get(VAULT_NAME, name.lower())
        if taken is not None and ids.key(taken["id"]) != ids.key(resource_id):
            raise errors.vault_already_exists(name)
        existing = store.get("arm", ids.key(resource_id))
        deleted = store.get(DELETED_VAULT, name.lower())
        if existing is None and deleted is not None:
            if body_properties.get("createMode") != "recover":
                raise errors.vault_in_deleted_state()
            return _recover(store, deleted), True
        tenant_id = body_properties.get("tenantId") or subscriptions.tenant_of(
            store, subscription_id)
        vault = {
            "id": existing["id"] if existing else resource_id,
            "name": existing["name"] if existing else name,
            "type": VAULT_TYPE,
            "location": resource_groups.normalise_location(location),
            "tags": body.get("tags") or {},
            "properties": _properties(body_properties, tenant_id, vault_uri(endpoints, name)),
        }
        store.put("arm", ids.key(vault["id"]), vault, parent=ids.key(group["id"]))
        store.put(VAULT_NAME, name.lower(), {"id": vault["id"]})
    return vault, existing is None


def soft_delete(store: CloudStore, vault: dict[str, Any]) -> None:
    """Remove a vault from service, keeping it recoverable (``enableSoftDelete`` is always on)."""
    now = datetime.now(UTC)
    days = vault["properties"].get("softDeleteRetentionInDays", 90)
    subscription_id = ids.subscription_of(vault["id"])
    record = {
        "id": f"/subscriptions/{subscription_id}/providers/Microsoft.KeyVault/locations/"
              f"{vault['location']}/deletedVaults/{vault['name']}",
        "name": vault["name"],
        "type": DELETED_VAULT_TYPE,
        "properties": {
            "vaultId": vault["id"],
            "location": vault["location"],
            "deletionDate": now.isoformat().replace("+00:00", "Z"),
            "scheduledPurgeDate": (now + timedelta(days=days)).isoformat().replace("+00:00", "Z"),
            "tags": vault.get("tags") or {},
            "purgeProtectionEnabled": bool(vault["properties"].get("enablePurgeProtection")),
        },
        "vault": vault,
    }
    with store.transaction():
        store.put(DELETED_VAULT, vault["name"].lower(), record)
        store.delete(VAULT_NAME, vault["name"].lower())
        store.delete("arm", ids.key(vault["id"]))


def _recover(store: CloudStore, record: dict[str, Any]) -> dict[str, Any]:
    vault = record["vault"]
    group_id = ids.resource_group_of(vault["id"])
    store.put("arm", ids.key(vault["id"]), vault, parent=ids.key(group_id or ""))
    store.put(VAULT_NAME, vault["name"].lower(), {"id": vault["id"]})
    store.delete(DELETED_VAULT, vault["name"].lower())
    return vault


def deleted_view(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "vault"}


def list_deleted(store: CloudStore, subscription_id: str) -> list[dict[str, Any]]:
    wanted = subscription_id.lower()
    return [deleted_view(record) for record in store.scan(DELETED_VAULT)
            if (ids.subscription_of(record["properties"]["vaultId"]) or "").lower() == wanted]


def get_deleted(store: CloudStore, subscription_id: str, location: str,
                name: str) -> dict[str, Any]:
    record = store.get(DELETED_VAULT, name.lower())
    if record is None or not resource_groups.same_location(record["properties"]["location"],
                                                            location) \
            or (ids.subscription_of(record["properties"]["vaultId"]) or "").lower() \
            != subscription_id.lower():
        raise errors.deleted_vault_not_found(name)
    return record


def purge(store: CloudStore, subscription_id: str, location: str, name: str) -> None:
    """Delete a soft-deleted vault for good, with every Key Vault object it held."""
    get_deleted(store, subscription_id, location, name)
    prefix = f"{name.lower()}/"
    with store.transaction():
        for kind in KEY_VAULT_OBJECT_KINDS:
            for key in _keys_with_prefix(store, kind, prefix):
                store.delete(kind, key)
        store.delete(DELETED_VAULT, name.lower())


def _keys_with_prefix(store: CloudStore, kind: str, prefix: str) -> list[str]:
    rows = store._connection().execute(  # noqa: SLF001 - keys are not in the bodies
        "SELECT key FROM documents WHERE kind = ? AND substr(key, 1, ?) = ?",
        (kind, len(prefix), prefix)).fetchall()
    return [row[0] for row in rows]
