"""``explain``'s decisions and nearest misses, one test per kind, over a seeded store."""

from __future__ import annotations

import pytest

from kvcsi.cloud.arm import roles
from kvcsi.cloud.arm.explain_query import ExplainError, answer

from .world import assign, attach, offline_seed, policy

GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
MULTIPLE = ("Multiple user assigned identities exist, please specify the clientId / "
            "resourceId of the identity in the token request")


@pytest.fixture
def seed(tmp_path):
    return offline_seed(tmp_path)


def _ask(seed, assignee, vault, secret="db-password", **extra):
    question = {"identity": {"assignee": assignee}, "vault": vault,
                "objects": [{"type": "secret", "name": secret}] if secret else [], **extra}
    return answer(seed.store, question)


def _only_check(result):
    assert len(result["checks"]) == 1
    return result["checks"][0]


def test_allowed_names_the_role_assignment_and_scope(seed):
    vault = seed.vault("kv1")
    app = seed.principal("reader-app")
    granted = assign(seed, app["id"], roles.KEY_VAULT_SECRETS_USER, vault["id"])

    result = _ask(seed, app["appId"], "kv1")

    check = _only_check(result)
    assert result["allowed"] is True
    assert result["identity"]["objectId"] == app["id"]
    assert check["grantedBy"] == {
        "kind": "roleAssignment", "assignmentId": granted["id"],
        "roleName": "Key Vault Secrets User",
        "roleDefinitionId": granted["properties"]["roleDefinitionId"],
        "scope": vault["id"], "principalId": app["id"]}
    assert check["expectedResponse"] == {"status": 200}
    assert check["resource"] == vault["id"] + "/secrets/db-password"


def test_allowed_by_access_policy(seed):
    app = seed.principal("policy-app")
    seed.vault("kvpolicy", rbac=False,
               access_policies=[policy(app["id"], seed.tenant_id, secrets=["get", "list"])])

    check = _only_check(_ask(seed, "policy-app", "kvpolicy"))

    assert check["allowed"] is True
    assert check["grantedBy"] == {"kind": "accessPolicy", "objectId": app["id"],
                                  "permissions": ["get", "list"]}


def test_wrong_scope_on_another_vault(seed):
    seed.vault("kv1")
    other = seed.vault("kv2")
    app = seed.principal("app")
    assign(seed, app["id"], roles.KEY_VAULT_SECRETS_USER, other["id"])

    check = _only_check(_ask(seed, app["id"], "kv1"))

    assert check["allowed"] is False
    assert check["expectedResponse"] == {"status": 403, "code": "Forbidden",
                                         "innerCode": "ForbiddenByRbac"}
    [miss] = check["nearestMisses"]
    assert miss["kind"] == "wrong-scope"
    assert "role 'Key Vault Secrets User' grants " in miss["message"]
    assert "is assigned on another vault 'kv2'" in miss["message"]


def test_wrong_scope_on_another_object(seed):
    vault = seed.vault("kv1")
    app = seed.principal("app")
    assign(seed, app["id"], roles.KEY_VAULT_SECRETS_USER, vault["id"] + "/secrets/api-key")

    [miss] = _only_check(_ask(seed, app["id"], "kv1"))["nearestMisses"]

    assert miss["kind"] == "wrong-scope"
    assert "is assigned on another secret 'api-key' of vault 'kv1'" in miss["message"]


@pytest.mark.parametrize(("scope_of", "relation"), [
    (lambda seed, vault: seed.group_id("rg2"), "on another resource group 'rg2'"),
    (lambda seed, vault: "/subscriptions/00000000-0000-0000-0000-00000000000f",
     "on another subscription '00000000-0000-0000-0000-00000000000f'"),
    (lambda seed, vault: vault["id"] + "/keys/db-password",
     "on another key 'db-password' of vault 'kv1'"),
])
def test_wrong_scope_elsewhere(seed, scope_of, relation):
    vault = seed.vault("kv1")
    app = seed.principal("app")
    assign(seed, app["id"], roles.KEY_VAULT_ADMINISTRATOR, scope_of(seed, vault))

    [miss] = _only_check(_ask(seed, app["id"], "kv1"))["nearestMisses"]

    assert miss["kind"] == "wrong-scope"
    assert f"is assigned {relation} (scope " in miss["message"]


def test_object_scope_assignment_allows_only_that_object(seed):
    vault = seed.vault("kv1")
    app = seed.principal("app")
    assign(seed, app["id"], roles.KEY_VAULT_SECRETS_USER, vault["id"] + "/secrets/db-password")

    assert _only_check(_ask(seed, app["id"], "kv1"))["allowed"] is True
    assert _only_check(_ask(seed, app["id"], "kv1", "other"))["allowed"] is False


def test_role_lacking_the_data_action(seed):
    vault = seed.vault("kv1")
    app = seed.principal("app")
    assign(seed, app["id"], roles.KEY_VAULT_READER, vault["id"])

    [miss] = _only_check(_ask(seed, app["id"], "kv1"))["nearestMisses"]

    assert miss["kind"] == "missing-data-action"
    assert miss["message"].startswith(
        f"role 'Key Vault Reader' assigned at scope '{vault['id']}' applies here but lacks "
        f"the data action '{GET_SECRET}': its data actions are ")
    assert miss["missingDataAction"] == GET_SECRET


def test_control_plane_role_has_no_data_actions(seed):
    seed.vault("kv1")
    app = seed.principal("app")
    assign(seed, app["id"], roles.OWNER, f"/subscriptions/{seed.subscription_id}")

    [miss] = _only_check(_ask(seed, app["id"], "kv1"))["nearestMisses"]

    assert miss["kind"] == "missing-data-action"
    assert "role 'Owner'" in miss["message"]
    assert "it has no data actions" in miss["message"]


def test_access_policy_on_an_rbac_vault(seed):
    app = seed.principal("app")
    seed.vault("kv1", access_policies=[policy(app["id"], seed.tenant_id, secrets=["get"])])

    [miss] = _only_check(_ask(seed, app["id"], "kv1"))["nearestMisses"]

    assert miss["kind"] == "other-permission-model"
    assert miss["message"].startswith(
        "vault 'kv1' uses Azure RBAC (enableRbacAuthorization: true), so its access policy "
        "granting secrets get to this identity is ignored")


def test_role_assignment_on_an_access_policy_vault(seed):
    vault = seed.vault("kvpolicy", rbac=False)
    app = seed.principal("app")
    assign(seed, app["id"], roles.KEY_VAULT_SECRETS_USER, vault["id"])

    check = _only_check(_ask(seed, app["id"], "kvpolicy"))

    assert check["expectedResponse"]["innerCode"] == "AccessDenied"
    [miss] = check["nearestMisses"]
    assert miss["kind"] == "other-permission-model"
    assert miss["message"].startswith(
        "vault 'kvpolicy' uses access policies (enableRbacAuthorization: false), so role "
        "'Key Vault Secrets User' assigned at scope")


def test_access_policy_without_the_permission(seed):
    app = seed.principal("app")
    seed.vault("kvpolicy", rbac=False,
               access_policies=[policy(app["id"], seed.tenant_id, secrets=["list"])])

    [miss] = _only_check(_ask(seed, app["id"], "kvpolicy"))["nearestMisses"]

    assert miss["kind"] == "missing-permission"
    assert miss["message"] == ("the access policy of this identity on vault 'kvpolicy' "
                               "grants secrets [list] but not 'get'")


def test_compound_identity_policy_does_not_grant_the_identity_alone(seed):
    app = seed.principal("app")
    entry = {**policy(app["id"], seed.tenant_id, secrets=["get"]), "applicationId": "app-x"}
    seed.vault("kvpolicy", rbac=False, access_policies=[entry])

    [miss] = _only_check(_ask(seed, app["id"], "kvpolicy"))["nearestMisses"]

    assert miss["kind"] == "missing-permission"
    assert "is a compound identity entry (applicationId 'app-x')" in miss["message"]


def test_other_identity_on_the_same_scale_set(seed):
    vault = seed.vault("kv1")
    vm = seed.scale_set_vm(user_assigned=1)
    kubelet = vm.user_assigned[0]
    addon = seed.user_assigned_identity("azurekeyvaultsecretsprovider-cluster")
    attach(seed, vm.vmss, identity=addon)
    assign(seed, addon["properties"]["principalId"], roles.KEY_VAULT_SECRETS_USER, vault["id"])

    check = _only_check(_ask(seed, kubelet["properties"]["clientId"], "kv1"))

    [miss] = check["nearestMisses"]
    assert miss["kind"] == "other-identity"
    assert miss["message"].startswith(
        "identity 'azurekeyvaultsecretsprovider-cluster' on the same scale set "
        f"'{vm.vmss['name']}' is allowed by role 'Key Vault Secrets User' assigned at scope "
        f"'{vault['id']}', but identity '{kubelet['name']}' is the identity used")
    assert miss["allowedIdentity"]["clientId"] == addon["properties"]["clientId"]


def test_no_access_at_all_says_which_command_would_grant_it(seed):
    vault = seed.vault("kv1")
    lonely = seed.principal("lonely")

    [miss] = _only_check(_ask(seed, "lonely", "kv1"))["nearestMisses"]

    assert miss["kind"] == "no-access"
    assert miss["message"] == (
        "no role assignment, access policy or sibling identity comes close: identity 'lonely' "
        f"has nothing granting '{GET_SECRET}' on vault 'kv1'; to allow it: az role assignment "
        f"create --role \"Key Vault Secrets User\" --assignee {lonely['appId']} "
        f"--scope {vault['id']}/secrets/db-password")


def test_no_access_on_an_access_policy_vault_names_set_policy(seed):
    seed.vault("kv2", rbac=False)
    lonely = seed.principal("lonely")

    [miss] = _only_check(_ask(seed, "lonely", "kv2"))["nearestMisses"]

    assert miss["kind"] == "no-access"
    assert miss["message"].endswith(
        f"; to allow it: az keyvault set-policy --name kv2 --object-id {lonely['id']} "
        "--secret-permissions get")


def test_vault_level_action_and_key_objects(seed):
    vault = seed.vault("kv1")
    app = seed.principal("app")
    assign(seed, app["id"], roles.KEY_VAULT_CRYPTO_USER, vault["id"])

    listing = _ask(seed, app["id"], "kv1", secret=None)
    key = answer(seed.store, {"identity": {"assignee": app["id"]}, "vault": "kv1",
                              "objects": [{"type": "key", "name": "k1"}],
                              "action": "sign"})

    assert _only_check(listing)["action"] == "listSecrets"
    assert _only_check(listing)["allowed"] is False
    assert _only_check(key)["dataAction"] == "Microsoft.KeyVault/vaults/keys/sign/action"
    assert _only_check(key)["allowed"] is True


@pytest.mark.parametrize(("question", "status", "code"), [
    ({"identity": {"assignee": "nobody"}, "vault": "kv1"}, 404, "PrincipalNotFound"),
    ({"identity": {"assignee": "app"}, "vault": "nope"}, 404, "VaultNotFound"),
    ({"identity": {"assignee": "app"}, "vault": "kv1", "action": "fly"}, 400, "InvalidAction"),
    ({"identity": {"assignee": "app"}, "vault": "kv1", "action": "getKey",
      "objects": [{"type": "secret", "name": "s"}]}, 400, "InvalidAction"),
    ({"identity": {"assignee": "app"}, "vault": "kv1", "action": "getSecret"}, 400,
     "InvalidAction"),
    ({"identity": {"assignee": "app"}, "vault": "kv1",
      "objects": [{"type": "blob", "name": "s"}]}, 400, "InvalidObject"),
    ({"identity": {}, "vault": "kv1"}, 400, "InvalidIdentity"),
    ({"identity": {"vmId": "nope"}, "vault": "kv1"}, 404, "VmNotFound"),
])
def test_questions_that_cannot_be_answered(seed, question, status, code):
    seed.vault("kv1")
    seed.principal("app")

    with pytest.raises(ExplainError) as caught:
        answer(seed.store, question)

    assert (caught.value.status, caught.value.code) == (status, code)


# --- the identity IMDS returns on a node ---------------------------------------------------

def test_system_assigned_identity_wins_over_the_kubelet_identity(seed):
    vault = seed.vault("kv1")
    vm = seed.scale_set_vm(user_assigned=1)
    kubelet = vm.user_assigned[0]
    assign(seed, kubelet["properties"]["principalId"], roles.KEY_VAULT_SECRETS_USER,
           vault["id"])
    system = attach(seed, vm.vmss, system_assigned=True)

    result = answer(seed.store, {"identity": {"vmId": vm.vm_id}, "vault": "kv1",
                                 "objects": [{"type": "secret", "name": "db-password"}]})

    assert result["allowed"] is False
    assert result["identity"]["objectId"] == system["id"]
    assert result["steps"][1].startswith(
        "IMDS token request without client_id (userAssignedIdentityID is empty): IMDS returns "
        "the system-assigned identity (IMDS prefers it whenever one is attached)")
    [miss] = result["checks"][0]["nearestMisses"]
    assert miss["kind"] == "other-identity"
    assert miss["allowedIdentity"]["clientId"] == kubelet["properties"]["clientId"]


def test_client_id_selects_the_kubelet_identity(seed):
    vault = seed.vault("kv1")
    vm = seed.scale_set_vm(user_assigned=1, system_assigned=True)
    kubelet = vm.user_assigned[0]
    assign(seed, kubelet["properties"]["principalId"], roles.KEY_VAULT_SECRETS_USER,
           vault["id"])

    result = answer(seed.store, {
        "identity": {"vmId": vm.vm_id, "clientId": kubelet["properties"]["clientId"]},
        "vault": "kv1", "objects": [{"type": "secret", "name": "db-password"}]})

    assert result["allowed"] is True
    assert result["identity"]["clientId"] == kubelet["properties"]["clientId"]


def test_multiple_user_assigned_identities_without_client_id(seed):
    vault = seed.vault("kv1")
    vm = seed.scale_set_vm(user_assigned=2)
    allowed = vm.user_assigned[1]
    assign(seed, allowed["properties"]["principalId"], roles.KEY_VAULT_SECRETS_USER,
           vault["id"])

    result = answer(seed.store, {"identity": {"vmId": vm.vm_id}, "vault": "kv1",
                                 "objects": [{"type": "secret", "name": "s"}]})

    assert result["allowed"] is False
    assert result["identity"] is None
    assert result["identityError"] == {"status": 400, "error": "invalid_request",
                                       "error_description": MULTIPLE}
    assert [c["wouldBeAllowed"] for c in result["vmIdentities"]] == [
        c["objectId"] == allowed["properties"]["principalId"] for c in result["vmIdentities"]]


def test_client_id_not_attached_is_identity_not_found(seed):
    seed.vault("kv1")
    vm = seed.scale_set_vm(user_assigned=1)

    result = answer(seed.store, {"identity": {"vmId": vm.vm_id, "clientId": "0000-nope"},
                                 "vault": "kv1", "objects": []})

    assert result["identityError"]["error_description"] == "Identity not found"
    assert result["steps"][-1] == ("IMDS token request with client_id=0000-nope: IMDS answers "
                                   "400 invalid_request: Identity not found")


def test_identities_are_named_by_their_cluster_role(seed):
    vault = seed.vault("kv1")
    vm = seed.scale_set_vm(user_assigned=1)
    kubelet = vm.user_assigned[0]
    addon = seed.user_assigned_identity("azurekeyvaultsecretsprovider-c1")
    attach(seed, vm.vmss, identity=addon)
    assign(seed, addon["properties"]["principalId"], roles.KEY_VAULT_SECRETS_USER, vault["id"])
    cluster_id = seed.group_id() + "/providers/Microsoft.ContainerService/managedClusters/c1"
    seed.store.put("arm", cluster_id.lower(), {
        "id": cluster_id, "name": "c1", "type": "Microsoft.ContainerService/managedClusters",
        "properties": {
            "identityProfile": {"kubeletidentity": {
                "objectId": kubelet["properties"]["principalId"]}},
            "addonProfiles": {"azureKeyvaultSecretsProvider": {"enabled": True, "identity": {
                "objectId": addon["properties"]["principalId"]}}}}},
        parent=seed.group_id().lower())

    result = answer(seed.store, {"identity": {"vmId": vm.vm_id}, "vault": "kv1",
                                 "objects": [{"type": "secret", "name": "s"}]})

    assert result["identityError"]["error_description"] == MULTIPLE
    assert {c["name"]: c["wouldBeAllowed"] for c in result["vmIdentities"]} == {
        f"identity '{kubelet['name']}' (kubelet identity of cluster 'c1')": False,
        "identity 'azurekeyvaultsecretsprovider-c1' (Key Vault secrets provider add-on "
        "identity of cluster 'c1')": True}
    check = _only_check(_ask(seed, kubelet["properties"]["clientId"], "kv1"))
    assert check["nearestMisses"][0]["message"].startswith(
        "identity 'azurekeyvaultsecretsprovider-c1' (Key Vault secrets provider add-on identity "
        f"of cluster 'c1') on the same scale set '{vm.vmss['name']}' is allowed by role 'Key "
        "Vault Secrets User'")
    assert f"but identity '{kubelet['name']}' (kubelet identity of cluster 'c1') is the " \
           "identity used" in check["nearestMisses"][0]["message"]
