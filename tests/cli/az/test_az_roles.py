"""``az role assignment`` (create, list with --assignee/--scope/--all, delete) and
``az role definition list``: scopes from subscription to one secret, assignees by client id,
object id or service principal name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from az_runner import Az, as_json
from support.local_cloud import LocalCloud

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


@pytest.fixture(scope="module")
def world(az: Az, sub: str) -> dict[str, Any]:
    az.ok("group", "create", "-n", "roles-rg", "-l", "eastus")
    az.ok("keyvault", "create", "-n", "KvRoles", "-g", "roles-rg")
    identity = az.ok("identity", "create", "-g", "roles-rg", "-n", "roles-id").json()
    vault = f"/subscriptions/{sub}/resourceGroups/roles-rg/providers/Microsoft.KeyVault/" \
            "vaults/KvRoles"
    return {"identity": identity, "vault": vault, "group": f"/subscriptions/{sub}/"
                                                           "resourceGroups/roles-rg"}


def _role_id(sub: str, guid: str) -> str:
    return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def test_create_by_client_id_at_vault_scope(az: Az, sub: str, world: dict) -> None:
    identity = world["identity"]
    created = az.ok("role", "assignment", "create", "--role", "Key Vault Secrets User",
                    "--assignee", identity["clientId"], "--scope", world["vault"])
    body = created.json()
    name = body["name"]
    expected = {
        "condition": None, "conditionVersion": None, "createdBy": body["createdBy"],
        "createdOn": body["createdOn"], "delegatedManagedIdentityResourceId": None,
        "description": None,
        "id": f"{world['vault']}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name, "principalId": identity["principalId"],
        "principalType": "ServicePrincipal", "resourceGroup": "roles-rg",
        "roleDefinitionId": _role_id(sub, SECRETS_USER), "scope": world["vault"],
        "type": "Microsoft.Authorization/roleAssignments", "updatedBy": body["updatedBy"],
        "updatedOn": body["updatedOn"]}
    assert created.stdout == as_json(expected)
    listed = az.ok("role", "assignment", "list", "--scope", world["vault"])
    assert listed.stdout == as_json([{**expected, "principalName": identity["clientId"],
                                      "roleDefinitionName": "Key Vault Secrets User"}])
    assert az.ok("role", "assignment", "list", "--scope", world["vault"], "--query",
                 "[].{role: roleDefinitionName, who: principalName}", "-o", "tsv"
                 ).stdout == f"Key Vault Secrets User\t{identity['clientId']}\n"
    duplicate = az("role", "assignment", "create", "--role", SECRETS_USER,
                   "--assignee", identity["principalId"], "--scope", world["vault"])
    assert (duplicate.exit_code, duplicate.stderr) == (
        1, "ERROR: (RoleAssignmentExists) The role assignment already exists.\n"
           "Code: RoleAssignmentExists\nMessage: The role assignment already exists.\n")


def test_object_scope_and_list_semantics(az: Az, sub: str, world: dict) -> None:
    identity = world["identity"]
    secret_scope = f"{world['vault']}/secrets/OneSecret"
    az.ok("role", "assignment", "create", "--role", "Key Vault Secrets Officer",
          "--assignee-object-id", identity["principalId"],
          "--assignee-principal-type", "ServicePrincipal", "--scope", secret_scope)
    az.ok("role", "assignment", "create", "--role", "Reader", "--assignee",
          identity["principalId"], "-g", "roles-rg")

    def roles(*argv: str) -> list[str]:
        out = az.ok("role", "assignment", "list", *argv, "--query",
                    "[].roleDefinitionName", "-o", "tsv").stdout
        return sorted(out.split("\n")[:-1])

    assignee = ("--assignee", identity["clientId"])
    assert roles(*assignee, "--scope", secret_scope) == ["Key Vault Secrets Officer"]
    assert roles(*assignee, "--scope", secret_scope, "--include-inherited") == [
        "Key Vault Secrets Officer", "Key Vault Secrets User", "Reader"]
    assert roles(*assignee, "--scope", world["group"]) == ["Reader"]
    assert roles(*assignee) == []  # without --all: only assignments at the subscription
    assert roles(*assignee, "--all") == ["Key Vault Secrets Officer", "Key Vault Secrets User",
                                         "Reader"]
    assert roles() == ["Key Vault Administrator", "Owner"]  # the local account
    redundant = az("role", "assignment", "list", "-g", "roles-rg", "--scope", world["group"])
    assert (redundant.exit_code, redundant.stderr) == (
        1, 'ERROR: Resource group "roles-rg" is redundant because scope is supplied\n')
    both = az("role", "assignment", "list", "--all", "--scope", world["group"])
    assert (both.exit_code, both.stderr) == (
        1, "ERROR: group or scope are not required when --all is used\n")


def test_assignee_by_service_principal_name_and_delete(az: Az, cloud: LocalCloud, sub: str,
                                                       world: dict) -> None:
    app = az.ok("ad", "sp", "create-for-rbac", "-n", "roles-app").json()
    az.ok("role", "assignment", "create", "--role", "Reader", "--assignee", app["appId"],
          "--scope", world["vault"])
    assert az.ok("role", "assignment", "list", "--assignee", app["appId"], "--all",
                 "--query", "[].scope", "-o", "tsv").stdout == world["vault"] + "\n"
    deleted = az.ok("role", "assignment", "delete", "--assignee", app["appId"], "--role",
                    "Reader", "--scope", world["vault"])
    assert (deleted.stdout, deleted.stderr) == ("", "")
    assert az.ok("role", "assignment", "list", "--assignee", app["appId"], "--all"
                 ).stdout == "[]\n"
    nothing = az.ok("role", "assignment", "delete", "--assignee", app["appId"],
                    "--scope", world["vault"])
    assert nothing.stderr == "WARNING: No matched assignments were found to delete\n"
    by_id = az.ok("role", "assignment", "create", "--role", READER, "--assignee",
                  app["appId"], "--scope", world["group"]).json()
    az.ok("role", "assignment", "delete", "--ids", by_id["id"])
    assert az.ok("role", "assignment", "list", "--assignee", app["appId"], "--all"
                 ).stdout == "[]\n"


def test_errors(az: Az, world: dict) -> None:
    unknown = az("role", "assignment", "create", "--role", "Key Vault Wizard",
                 "--assignee", world["identity"]["clientId"], "--scope", world["vault"])
    assert (unknown.exit_code, unknown.stderr) == (
        1, "ERROR: Role 'Key Vault Wizard' doesn't exist.\n")
    nobody = az("role", "assignment", "create", "--role", "Reader",
                "--assignee", "11111111-2222-3333-4444-555555555555", "--scope", world["vault"])
    assert (nobody.exit_code, nobody.stderr) == (
        1, "ERROR: Cannot find user or service principal in graph database for "
           "'11111111-2222-3333-4444-555555555555'. If the assignee is an appId, make sure the "
           "corresponding service principal is created with 'az ad sp create --id "
           "11111111-2222-3333-4444-555555555555'.\n")
    no_vault = az("role", "assignment", "create", "--role", "Reader", "--assignee",
                  world["identity"]["clientId"], "--scope",
                  world["vault"].replace("KvRoles", "KvMissing"))
    assert no_vault.exit_code == 3
    usage = az("role", "assignment", "create", "--role", "Reader")
    assert (usage.exit_code, usage.stderr) == (
        2, "ERROR: usage error: --assignee STRING | --assignee-object-id GUID\n")


def test_definition_list(az: Az, sub: str) -> None:
    found = az.ok("role", "definition", "list", "--name", "Key Vault Secrets User").json()
    assert len(found) == 1
    definition = found[0]
    assert (definition["id"], definition["name"], definition["roleName"],
            definition["roleType"], definition["type"]) == (
        _role_id(sub, SECRETS_USER), SECRETS_USER, "Key Vault Secrets User", "BuiltInRole",
        "Microsoft.Authorization/roleDefinitions")
    assert definition["permissions"][0]["dataActions"] == [
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]
    names = az.ok("role", "definition", "list", "--query", "[].roleName", "-o", "tsv").stdout
    for role in ("Owner", "Contributor", "Reader", "Key Vault Administrator",
                 "Key Vault Secrets User", "Key Vault Secrets Officer",
                 "Key Vault Crypto User", "Key Vault Certificates Officer", "Key Vault Reader"):
        assert role in names.splitlines()
    assert json.loads(az.ok("role", "definition", "list", "-n", SECRETS_OFFICER,
                            "--query", "[0].roleName").stdout) == "Key Vault Secrets Officer"
