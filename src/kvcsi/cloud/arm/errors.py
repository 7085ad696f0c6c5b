"""The management plane's one error table: ARM error codes, statuses and texts.

Every failure the ARM and Graph handlers report is an :class:`ArmError`; the route layer
turns it into ``{"error": {"code", "message"}}`` with the status. The texts are the ones
Azure Resource Manager, the Key Vault and Authorization resource providers and Microsoft
Graph return for the same condition.
"""

from __future__ import annotations

from datetime import datetime


class ArmError(Exception):
    """A management-plane failure with its HTTP status, ARM error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def missing_authorization_header() -> ArmError:
    return ArmError(401, "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.")


def invalid_authorization_header() -> ArmError:
    return ArmError(401, "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is provided in an "
                    "invalid format.")


def invalid_token() -> ArmError:
    return ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")


def expired_token(expiry: datetime, now: datetime) -> ArmError:
    def stamp(moment: datetime) -> str:
        return moment.strftime("%m/%d/%Y %H:%M:%S")
    return ArmError(401, "ExpiredAuthenticationToken",
                    f"The access token expiry UTC time '{stamp(expiry)}' is earlier than current "
                    f"UTC time '{stamp(now)}'.")


def invalid_token_audience(audience: str, allowed: list[str]) -> ArmError:
    quoted = ",".join(f"'{value}'" for value in allowed)
    return ArmError(401, "InvalidAuthenticationTokenAudience",
                    f"The access token has been obtained for wrong audience or resource "
                    f"'{audience}'. It should exactly match with one of the allowed audiences "
                    f"{quoted}.")


def missing_api_version() -> ArmError:
    return ArmError(400, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all "
                    "requests.")


def authorization_failed(object_id: str, action: str, scope: str) -> ArmError:
    return ArmError(
        403, "AuthorizationFailed",
        f"The client '{object_id}' with object id '{object_id}' does not have authorization to "
        f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access "
        "was recently granted, please refresh your credentials.")


def invalid_request_content(detail: str) -> ArmError:
    return ArmError(400, "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized: '{detail}'.")


def subscription_not_found(subscription_id: str) -> ArmError:
    return ArmError(404, "SubscriptionNotFound",
                    f"The subscription '{subscription_id}' could not be found.")


def resource_group_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def resource_not_found(resource_type: str, name: str, resource_group: str) -> ArmError:
    return ArmError(
        404, "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not "
        "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def invalid_resource_type(namespace: str, resource_type: str, api_version: str) -> ArmError:
    return ArmError(
        404, "InvalidResourceType",
        f"The resource type '{resource_type}' could not be found in the namespace "
        f"'{namespace}' for api version '{api_version}'.")


def invalid_resource_namespace(namespace: str) -> ArmError:
    return ArmError(404, "InvalidResourceNamespace",
                    f"The resource namespace '{namespace}' is invalid.")


def location_required() -> ArmError:
    return ArmError(400, "LocationRequired",
                    "The location property is required for this definition.")


def invalid_resource_group_location(requested: str, existing: str) -> ArmError:
    return ArmError(
        409, "InvalidResourceGroupLocation",
        f"Invalid resource group location '{requested}'. The Resource group already exists in "
        f"location '{existing}'.")


def invalid_resource_group_name(name: str) -> ArmError:
    return ArmError(
        400, "InvalidResourceGroup",
        f"The provided resource group name '{name}' has these invalid characters: "
        "'<>%&:\\?/'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.")


def vault_name_not_valid(name: str) -> ArmError:
    return ArmError(
        400, "VaultNameNotValid",
        f"The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric "
        "characters. The name must begin with a letter, end with a letter or digit, and not "
        "contain consecutive hyphens. Follow this link for more information: "
        "https://go.microsoft.com/fwlink/?linkid=2147742")


def vault_already_exists(name: str) -> ArmError:
    return ArmError(
        409, "VaultAlreadyExists",
        f"The vault name '{name}' is already in use. Vault names are globally unique so it is "
        "possible that the name is already taken. If you are sure that the vault name was not "
        "taken then it is possible that a vault with the same name was recently deleted but not "
        "purged after being placed in a recoverable state. If the vault is in a recoverable "
        "state then the vault will need to be purged before reusing the name. For more "
        "information about VaultAlreadyExists, soft delete and purging a vault follow this link "
        "https://go.microsoft.com/fwlink/?linkid=2147740.")


def vault_in_deleted_state() -> ArmError:
    return ArmError(
        409, "ConflictError",
        "A vault with the same name already exists in deleted state. You need to either "
        "recover or purge existing key vault. Follow this link "
        "https://go.microsoft.com/fwlink/?linkid=2149745 for more information on soft delete.")


def deleted_vault_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceNotFound",
                    f"The deleted vault '{name}' was not found.")


def role_assignment_exists() -> ArmError:
    return ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")


def role_assignment_not_found(name: str) -> ArmError:
    return ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


def role_assignment_update_not_permitted() -> ArmError:
    return ArmError(400, "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be "
                    "updated.")


def role_definition_does_not_exist(role_id: str, status: int = 400) -> ArmError:
    return ArmError(status, "RoleDefinitionDoesNotExist",
                    f"The specified role definition with ID '{role_id}' does not exist.")


def invalid_role_definition_id(value: str) -> ArmError:
    return ArmError(400, "InvalidRoleDefinitionId",
                    f"The role definition ID '{value}' is not valid.")


def principal_not_found(principal_id: str, tenant_id: str) -> ArmError:
    return ArmError(
        400, "PrincipalNotFound",
        f"Principal {principal_id.replace('-', '')} does not exist in the directory {tenant_id}. "
        "Check that you have the correct principal ID. If you are creating this principal and "
        "then immediately assigning a role, this error might be related to a replication "
        "delay. In this case, set the role assignment principalType property to a value, such "
        "as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype")


def unmatched_principal_type(principal_id: str, actual: str, requested: str) -> ArmError:
    return ArmError(
        400, "UnmatchedPrincipalType",
        f"The PrincipalId '{principal_id.replace('-', '')}' has type '{actual}' , which is "
        f"different from specified PrincipalType '{requested}'.")


def invalid_parameter(target: str, message: str) -> ArmError:
    return ArmError(400, "InvalidParameter", f"{message} Target: '{target}'.")


def bad_request(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message)


# Microsoft Graph answers with its own codes.

def graph_token_missing() -> ArmError:
    return ArmError(401, "InvalidAuthenticationToken", "Access token is empty.")


def graph_token_invalid() -> ArmError:
    return ArmError(401, "InvalidAuthenticationToken", "Access token validation failure.")


def graph_not_found(object_id: str) -> ArmError:
    return ArmError(
        404, "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.")


def graph_unsupported_query(detail: str) -> ArmError:
    return ArmError(400, "Request_UnsupportedQuery", detail)


def method_not_allowed(method: str) -> ArmError:
    return ArmError(405, "MethodNotAllowed",
                    f"The requested resource does not support http method '{method}'.")
