"""RBAC evaluation: scopes at segment boundaries, wildcards, additivity, not-lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from kvcsi.cloud.arm import ids, rbac, roles
from kvcsi.cloud.store import CloudStore

SUB = "11111111-1111-1111-1111-111111111111"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv1"
ALICE = "aaaaaaaa-0000-0000-0000-000000000001"
GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
SET_SECRET = "Microsoft.KeyVault/vaults/secrets/setSecret/action"
READ_METADATA = "Microsoft.KeyVault/vaults/secrets/readMetadata/action"


@pytest.fixture
def store(tmp_path: Path) -> CloudStore:
    return CloudStore(tmp_path / "cloud" / "state.db")


def assign(store: CloudStore, scope: str, role_guid: str, principal: str = ALICE,
           name: str | None = None) -> str:
    name = name or f"{len(store.scan('arm')):08d}-0000-0000-0000-000000000000"
    assignment_id = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    store.put("arm", ids.key(assignment_id), {
        "id": assignment_id, "name": name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"roleDefinitionId": roles.role_definition_id(SUB, role_guid),
                       "principalId": principal, "principalType": "ServicePrincipal",
                       "scope": scope}}, parent=rbac.assignments_collection(scope))
    return assignment_id


def define_role(store: CloudStore, guid: str, data_actions: list[str],
                not_data_actions: list[str]) -> None:
    definition_id = roles.role_definition_id(SUB, guid)
    store.put("arm", ids.key(definition_id), {
        "id": definition_id, "name": guid, "type": roles.ROLE_DEFINITION_TYPE,
        "properties": {"roleName": "Custom", "type": "CustomRole", "assignableScopes": ["/"],
                       "permissions": [{"actions": [], "notActions": [],
                                        "dataActions": data_actions,
                                        "notDataActions": not_data_actions}]}})


@pytest.mark.parametrize("scope", [f"/subscriptions/{SUB}", RG, VAULT, f"{VAULT}/secrets/db"])
def test_assignment_at_each_ancestor_scope_grants_object(store: CloudStore, scope: str) -> None:
    assignment_id = assign(store, scope, roles.KEY_VAULT_SECRETS_USER.guid)
    decision = rbac.check_data_action(store, ALICE, GET_SECRET, f"{VAULT}/secrets/db")
    assert decision.allowed is True
    assert decision.assignment_id == assignment_id
    assert decision.reason == (f"role 'Key Vault Secrets User' at scope '{scope}' grants "
                               f"'{GET_SECRET}'")


def test_object_scope_does_not_cover_other_secrets_or_vault_listing(store: CloudStore) -> None:
    assign(store, f"{VAULT}/secrets/db", roles.KEY_VAULT_SECRETS_USER.guid)
    assert rbac.check_data_action(store, ALICE, GET_SECRET, f"{VAULT}/secrets/db2").allowed \
        is False
    assert rbac.check_data_action(store, ALICE, READ_METADATA, VAULT).allowed is False


def test_scope_matches_at_segment_boundaries_only(store: CloudStore) -> None:
    assign(store, RG, roles.KEY_VAULT_SECRETS_USER.guid)
    other = f"/subscriptions/{SUB}/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv1"
    decision = rbac.check_data_action(store, ALICE, GET_SECRET, f"{other}/secrets/db")
    assert decision == rbac.AccessDecision(
        False, None, f"no role assignment of '{ALICE}' grants '{GET_SECRET}' on "
                     f"'{other}/secrets/db'")


def test_scope_and_action_compare_case_insensitively(store: CloudStore) -> None:
    assign(store, RG.upper().replace("SUBSCRIPTIONS", "subscriptions"),
           roles.KEY_VAULT_SECRETS_USER.guid)
    resource = f"/SUBSCRIPTIONS/{SUB}/resourcegroups/RG/providers/microsoft.keyvault/vaults/KV1"
    assert rbac.check_data_action(store, ALICE, GET_SECRET.lower(), resource).allowed is True


def test_wildcard_matches_within_pattern(store: CloudStore) -> None:
    assign(store, VAULT, roles.KEY_VAULT_READER.guid)
    assert rbac.check_data_action(store, ALICE, "Microsoft.KeyVault/vaults/keys/read",
                                  VAULT).allowed is True
    assert rbac.check_data_action(store, ALICE, READ_METADATA, VAULT).allowed is True
    assert rbac.check_data_action(store, ALICE, GET_SECRET, VAULT).allowed is False
    assert rbac.action_matches("Microsoft.KeyVault/vaults/*/read",
                               "Microsoft.KeyVault/vaults/secrets/readMetadata/action") is False
    assert rbac.action_matches("Microsoft.KeyVault/vaults/secrets/*", SET_SECRET) is True
    assert rbac.action_matches("*", "Microsoft.Anything/at/all") is True


def test_grants_are_additive_across_assignments(store: CloudStore) -> None:
    assign(store, VAULT, roles.KEY_VAULT_READER.guid)
    second = assign(store, f"{VAULT}/secrets/db", roles.KEY_VAULT_SECRETS_OFFICER.guid)
    decision = rbac.check_data_action(store, ALICE, SET_SECRET, f"{VAULT}/secrets/db")
    assert (decision.allowed, decision.assignment_id) == (True, second)


def test_not_data_actions_subtract_only_within_their_role(store: CloudStore) -> None:
    custom = "cccccccc-0000-0000-0000-000000000001"
    define_role(store, custom, ["Microsoft.KeyVault/vaults/secrets/*"], [GET_SECRET])
    assign(store, VAULT, custom)
    assert rbac.check_data_action(store, ALICE, GET_SECRET, VAULT).allowed is False
    assert rbac.check_data_action(store, ALICE, SET_SECRET, VAULT).allowed is True
    granting = assign(store, VAULT, roles.KEY_VAULT_SECRETS_USER.guid)
    decision = rbac.check_data_action(store, ALICE, GET_SECRET, VAULT)
    assert (decision.allowed, decision.assignment_id) == (True, granting)


def test_owner_and_contributor_have_no_data_access(store: CloudStore) -> None:
    assign(store, f"/subscriptions/{SUB}", roles.OWNER.guid)
    assign(store, f"/subscriptions/{SUB}", roles.CONTRIBUTOR.guid)
    assert rbac.check_data_action(store, ALICE, GET_SECRET, VAULT).allowed is False
    assert rbac.check_action(store, ALICE, "Microsoft.KeyVault/vaults/write", VAULT).allowed


def test_contributor_not_actions_block_role_assignment_writes(store: CloudStore) -> None:
    assign(store, RG, roles.CONTRIBUTOR.guid)
    assert rbac.check_action(store, ALICE, "Microsoft.Authorization/roleAssignments/write",
                             VAULT).allowed is False
    assert rbac.check_action(store, ALICE, "Microsoft.KeyVault/vaults/delete", VAULT).allowed
    assign(store, RG, roles.OWNER.guid)
    assert rbac.check_action(store, ALICE, "Microsoft.Authorization/roleAssignments/write",
                             VAULT).allowed is True


def test_other_principals_and_groups(store: CloudStore) -> None:
    group = "99999999-0000-0000-0000-000000000009"
    assign(store, VAULT, roles.KEY_VAULT_SECRETS_USER.guid, principal=group)
    assert rbac.check_data_action(store, ALICE, GET_SECRET, VAULT).allowed is False
    assert rbac.check_data_action(store, ALICE, GET_SECRET, VAULT, group_ids=[group]).allowed


def test_built_in_roles_carry_the_published_guids() -> None:
    by_name = {role.name: role.guid for role in roles.BUILT_IN_ROLES}
    assert by_name == {
        "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
        "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
        "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "Key Vault Crypto Service Release User": "08bbd89e-9f13-488c-ac41-acfcb10c90ab",
        "Key Vault Certificates Officer": "a4417e6f-fecd-4de8-b567-7b0420556985",
        "Key Vault Certificate User": "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        "Key Vault Purge Operator": "a68e7c17-0ab2-4c09-9a58-125dae29748c",
        "Key Vault Data Access Administrator": "8b54135c-b56d-4d72-a534-26097cfdc8d8",
        "Key Vault Contributor": "f25e0fa2-a7c8-4377-a976-54943a77a395",
    }


def test_ancestor_scopes_close_on_name_segments() -> None:
    assert ids.ancestor_scopes(f"{VAULT}/secrets/DB") == [
        "/", f"/subscriptions/{SUB}", ids.key(RG), ids.key(VAULT), ids.key(VAULT) + "/secrets/db"]
