"""Azure built-in role definitions the local cloud knows: the Key Vault roles plus Owner,
Contributor and Reader, with their real GUIDs and permission blocks.

Upstream counterpart: the built-in role catalogue of Microsoft.Authorization (as listed by
``az role definition list``). Data-plane permission only comes from ``dataActions``; Owner and
Contributor have none, so they get 403 from Key Vault, as in Azure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
BUILT_IN_CREATED_ON = "2015-02-02T21:55:09.8806423Z"


@dataclass(frozen=True)
class BuiltInRole:
    guid: str
    name: str
    description: str
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()

    def permissions(self) -> list[dict[str, list[str]]]:
        return [{
            "actions": list(self.actions),
            "notActions": list(self.not_actions),
            "dataActions": list(self.data_actions),
            "notDataActions": list(self.not_data_actions),
        }]


_KV_READ_ACTIONS = (
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
)
_RBAC_ONLY = " Only works for key vaults that use the 'Azure role-based access control' " \
             "permission model."

OWNER = BuiltInRole(
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner",
    "Grants full access to manage all resources, including the ability to assign roles in "
    "Azure RBAC.",
    actions=("*",))
CONTRIBUTOR = BuiltInRole(
    "b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor",
    "Grants full access to manage all resources, but does not allow you to assign roles in "
    "Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
    actions=("*",),
    not_actions=(
        "Microsoft.Authorization/*/Delete",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action",
        "Microsoft.Blueprint/blueprintAssignments/write",
        "Microsoft.Blueprint/blueprintAssignments/delete",
        "Microsoft.Compute/galleries/share/action",
        "Microsoft.Purview/consents/write",
        "Microsoft.Purview/consents/delete",
        "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
        "Microsoft.Subscription/cancel/action",
        "Microsoft.Subscription/enable/action",
    ))
READER = BuiltInRole(
    "acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader",
    "View all resources, but does not allow you to make any changes.",
    actions=("*/read",))
KEY_VAULT_ADMINISTRATOR = BuiltInRole(
    "00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator",
    "Perform all data plane operations on a key vault and all objects in it, including "
    "certificates, keys, and secrets. Cannot manage key vault resources or manage role "
    "assignments." + _RBAC_ONLY,
    actions=_KV_READ_ACTIONS,
    data_actions=("Microsoft.KeyVault/vaults/*",))
KEY_VAULT_READER = BuiltInRole(
    "21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader",
    "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read "
    "sensitive values such as secret contents or key material." + _RBAC_ONLY,
    actions=_KV_READ_ACTIONS,
    data_actions=("Microsoft.KeyVault/vaults/*/read",
                  "Microsoft.KeyVault/vaults/secrets/readMetadata/action"))
KEY_VAULT_SECRETS_OFFICER = BuiltInRole(
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer",
    "Perform any action on the secrets of a key vault, except manage permissions." + _RBAC_ONLY,
    actions=_KV_READ_ACTIONS,
    data_actions=("Microsoft.KeyVault/vaults/secrets/*",))
KEY_VAULT_SECRETS_USER = BuiltInRole(
    "4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User",
    "Read secret contents." + _RBAC_ONLY,
    data_actions=("Microsoft.KeyVault/vaults/secrets/getSecret/action",
                  "Microsoft.KeyVault/vaults/secrets/readMetadata/action"))
KEY_VAULT_CRYPTO_OFFICER = BuiltInRole(
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603", "Key Vault Crypto Officer",
    "Perform any action on the keys of a key vault, except manage permissions." + _RBAC_ONLY,
    actions=_KV_READ_ACTIONS,
    data_actions=("Microsoft.KeyVault/vaults/keys/*",
                  "Microsoft.KeyVault/vaults/keyrotationpolicies/*"))
KEY_VAULT_CRYPTO_USER = BuiltInRole(
    "12338af0-0e69-4776-bea7-57ae8d297424", "Key Vault Crypto User",
    "Perform cryptographic operations using keys." + _RBAC_ONLY,
    data_actions=tuple(f"Microsoft.KeyVault/vaults/keys/{op}" for op in (
        "read", "update/action", "backup/action", "encrypt/action", "decrypt/action",
        "wrap/action", "unwrap/action", "sign/action", "verify/action")))
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = BuiltInRole(
    "e147488a-f6f5-4113-8e2d-b22465e65bf6", "Key Vault Crypto Service Encryption User",
    "Read metadata of keys and perform wrap/unwrap operations." + _RBAC_ONLY,
    actions=("Microsoft.EventGrid/eventSubscriptions/write",
             "Microsoft.EventGrid/eventSubscriptions/read",
             "Microsoft.EventGrid/eventSubscriptions/delete"),
    data_actions=("Microsoft.KeyVault/vaults/keys/read",
                  "Microsoft.KeyVault/vaults/keys/wrap/action",
                  "Microsoft.KeyVault/vaults/keys/unwrap/action"))
KEY_VAULT_CRYPTO_SERVICE_RELEASE_USER = BuiltInRole(
    "08bbd89e-9f13-488c-ac41-acfcb10c90ab", "Key Vault Crypto Service Release User",
    "Release keys." + _RBAC_ONLY,
    data_actions=("Microsoft.KeyVault/vaults/keys/release/action",))
KEY_VAULT_CERTIFICATES_OFFICER = BuiltInRole(
    "a4417e6f-fecd-4de8-b567-7b0420556985", "Key Vault Certificates Officer",
    "Perform any action on the certificates of a key vault, except manage permissions."
    + _RBAC_ONLY,
    actions=_KV_READ_ACTIONS,
    data_actions=("Microsoft.KeyVault/vaults/certificatecas/*",
                  "Microsoft.KeyVault/vaults/certificates/*",
                  "Microsoft.KeyVault/vaults/certificatecontacts/write"))
KEY_VAULT_CERTIFICATE_USER = BuiltInRole(
    "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", "Key Vault Certificate User",
    "Read certificate contents." + _RBAC_ONLY,
    data_actions=("Microsoft.KeyVault/vaults/certificates/read",
                  "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                  "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
                  "Microsoft.KeyVault/vaults/keys/read"))
KEY_VAULT_PURGE_OPERATOR = BuiltInRole(
    "a68e7c17-0ab2-4c09-9a58-125dae29748c", "Key Vault Purge Operator",
    "Allows permanent deletion of soft-deleted vaults.",
    actions=("Microsoft.Authorization/*/read",
             "Microsoft.Insights/alertRules/*",
             "Microsoft.Resources/deployments/*",
             "Microsoft.Resources/subscriptions/resourceGroups/read",
             "Microsoft.KeyVault/deletedVaults/read",
             "Microsoft.KeyVault/locations/deletedVaults/read",
             "Microsoft.KeyVault/locations/deletedVaults/purge/action",
             "Microsoft.KeyVault/locations/operationResults/read"))
KEY_VAULT_DATA_ACCESS_ADMINISTRATOR = BuiltInRole(
    "8b54135c-b56d-4d72-a534-26097cfdc8d8", "Key Vault Data Access Administrator",
    "Manage access to Azure Key Vault by adding or removing role assignments for the Key "
    "Vault Administrator, Key Vault Certificates Officer, Key Vault Crypto Officer, Key Vault "
    "Crypto Service Encryption User, Key Vault Crypto User, Key Vault Reader, Key Vault Secrets "
    "Officer, or Key Vault Secrets User roles. Includes an ABAC condition to constrain role "
    "assignments.",
    actions=("Microsoft.Authorization/roleAssignments/write",
             "Microsoft.Authorization/roleAssignments/delete",
             "Microsoft.Authorization/*/read",
             "Microsoft.Resources/deployments/*",
             "Microsoft.Resources/subscriptions/resourceGroups/read",
             "Microsoft.Resources/subscriptions/read",
             "Microsoft.Management/managementGroups/read",
             "Microsoft.Resources/deployments/*",
             "Microsoft.Support/*",
             "Microsoft.KeyVault/vaults/*/read"))
KEY_VAULT_CONTRIBUTOR = BuiltInRole(
    "f25e0fa2-a7c8-4377-a976-54943a77a395", "Key Vault Contributor",
    "Lets you manage key vaults, but not access to them.",
    actions=("Microsoft.Authorization/*/read",
             "Microsoft.Insights/alertRules/*",
             "Microsoft.KeyVault/*",
             "Microsoft.Resources/deployments/*",
             "Microsoft.Resources/subscriptions/resourceGroups/read",
             "Microsoft.Support/*"),
    not_actions=("Microsoft.KeyVault/locations/deletedVaults/purge/action",
                 "Microsoft.KeyVault/hsmPools/*",
                 "Microsoft.KeyVault/managedHsms/*"))

BUILT_IN_ROLES: tuple[BuiltInRole, ...] = (
    OWNER, CONTRIBUTOR, READER,
    KEY_VAULT_ADMINISTRATOR, KEY_VAULT_READER,
    KEY_VAULT_SECRETS_OFFICER, KEY_VAULT_SECRETS_USER,
    KEY_VAULT_CRYPTO_OFFICER, KEY_VAULT_CRYPTO_USER,
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, KEY_VAULT_CRYPTO_SERVICE_RELEASE_USER,
    KEY_VAULT_CERTIFICATES_OFFICER, KEY_VAULT_CERTIFICATE_USER,
    KEY_VAULT_PURGE_OPERATOR, KEY_VAULT_DATA_ACCESS_ADMINISTRATOR, KEY_VAULT_CONTRIBUTOR,
)
_BY_GUID = {role.guid: role for role in BUILT_IN_ROLES}


def built_in_role(guid: str) -> BuiltInRole | None:
    return _BY_GUID.get(guid.lower())


def role_definition_id(subscription_id: str, guid: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/" \
           f"roleDefinitions/{guid}"


def role_definition_document(role: BuiltInRole, subscription_id: str) -> dict[str, Any]:
    """The role definition as ARM returns it under a subscription."""
    return {
        "id": role_definition_id(subscription_id, role.guid),
        "name": role.guid,
        "type": ROLE_DEFINITION_TYPE,
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": role.permissions(),
            "createdOn": BUILT_IN_CREATED_ON,
            "updatedOn": BUILT_IN_CREATED_ON,
            "createdBy": None,
            "updatedBy": None,
        },
    }
