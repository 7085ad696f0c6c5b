"""First-start defaults: created once, stable afterwards, the local account usable."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from arm_fixtures import ENDPOINTS, bootstrapped_store

from kvcsi.cloud.arm import app_secrets, bootstrap, directory, rbac, role_assignments, roles
from kvcsi.cloud.arm import subscriptions as subs
from kvcsi.cloud.store import CloudStore


def test_defaults_are_created_once(tmp_path: Path) -> None:
    store, first = bootstrapped_store(tmp_path)
    credential_file = tmp_path / "home" / "cloud" / "cli-credential.json"
    credential = credential_file.read_text()
    bootstrap.ensure_defaults(store, ENDPOINTS)
    bootstrap.ensure_defaults(CloudStore(store.path), ENDPOINTS)
    assert bootstrap.defaults(store) == first
    assert credential_file.read_text() == credential
    assert len(subs.tenants(store)) == 1
    assert [s["subscriptionId"] for s in subs.all_subscriptions(store)] == [first.subscription_id]
    assignments = role_assignments.list_for_scope(store, f"/subscriptions/{first.subscription_id}")
    assert sorted(a["properties"]["roleDefinitionId"].rsplit("/", 1)[1] for a in assignments) \
        == sorted([roles.OWNER.guid, roles.KEY_VAULT_ADMINISTRATOR.guid])
    assert len(store.scan("principal")) == 1
    assert len(store.get(app_secrets.APP_SECRET, first.local_app_id)["secrets"]) == 1


def test_subscription_and_tenant_shapes(tmp_path: Path) -> None:
    store, found = bootstrapped_store(tmp_path)
    subscription = subs.get_subscription(store, found.subscription_id)
    assert {k: subscription[k] for k in ("id", "subscriptionId", "tenantId", "displayName",
                                         "state")} == {
        "id": f"/subscriptions/{found.subscription_id}",
        "subscriptionId": found.subscription_id, "tenantId": found.tenant_id,
        "displayName": "kvcsi-local", "state": "Enabled"}
    assert store.get("tenant", found.tenant_id)["tenantId"] == found.tenant_id
    definitions = store.children(
        "arm", f"/subscriptions/{found.subscription_id}/providers/microsoft.authorization/"
               "roledefinitions")
    assert len(definitions) == len(roles.BUILT_IN_ROLES) == 16


def test_local_account_credential_file(tmp_path: Path) -> None:
    store, found = bootstrapped_store(tmp_path)
    path = tmp_path / "home" / "cloud" / "cli-credential.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credential = json.loads(path.read_text())
    assert sorted(credential) == ["clientId", "clientSecret", "objectId", "tenantId"]
    assert (credential["tenantId"], credential["clientId"], credential["objectId"]) == (
        found.tenant_id, found.local_app_id, found.local_object_id)
    stored = store.get("app-secret", found.local_app_id)
    assert credential["clientSecret"] not in json.dumps(stored)
    assert sorted(stored["secrets"][0]) == ["keyId", "salt", "sha256"]
    assert app_secrets.verify_client_secret(store, found.local_app_id, credential["clientSecret"])
    assert not app_secrets.verify_client_secret(store, found.local_app_id, "wrong")
    principal = directory.principal_by_app_id(store, found.local_app_id)
    assert principal["displayName"] == "kvcsi-local-user"
    assert principal["servicePrincipalType"] == "Application"
    assert directory.application_by_app_id(store, found.local_app_id)["displayName"] \
        == "kvcsi-local-user"


def test_local_account_may_use_key_vault_and_manage_access(tmp_path: Path) -> None:
    store, found = bootstrapped_store(tmp_path)
    vault = (f"/subscriptions/{found.subscription_id}/resourceGroups/rg/providers/"
             "Microsoft.KeyVault/vaults/kv")
    assert rbac.check_data_action(store, found.local_object_id,
                                  "Microsoft.KeyVault/vaults/secrets/setSecret/action",
                                  vault).allowed
    assert rbac.check_action(store, found.local_object_id,
                             "Microsoft.Authorization/roleAssignments/write", vault).allowed


def test_lost_credential_file_is_replaced_with_a_new_secret(tmp_path: Path) -> None:
    store, found = bootstrapped_store(tmp_path)
    path = tmp_path / "home" / "cloud" / "cli-credential.json"
    old_secret = json.loads(path.read_text())["clientSecret"]
    path.unlink()
    bootstrap.ensure_defaults(store, ENDPOINTS)
    new_secret = json.loads(path.read_text())["clientSecret"]
    assert new_secret != old_secret
    assert app_secrets.verify_client_secret(store, found.local_app_id, new_secret)
    assert not app_secrets.verify_client_secret(store, found.local_app_id, old_secret)
    assert bootstrap.defaults(store) == found
