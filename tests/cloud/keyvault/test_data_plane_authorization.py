"""Every data-plane operation asks for its own data action (RBAC vaults) or access-policy
permission (vaults with ``enableRbacAuthorization: false``), before looking at the object."""

from __future__ import annotations

import json

import pytest
from kv_support import CRYPTO_USER, SECRETS_USER, assign_role, error_of, fetch_token
from support.local_cloud import AppCredential

V = "0" * 32
# (method, path, body, data action suffix, object name or None, access-policy permission)
OPERATIONS = [
    ("GET", "/secrets/s", None, "secrets/getSecret/action", "secrets/s", "secrets get"),
    ("GET", "/secrets/s/", None, "secrets/getSecret/action", "secrets/s", "secrets get"),
    ("GET", f"/secrets/s/{V}", None, "secrets/getSecret/action", "secrets/s", "secrets get"),
    ("PUT", "/secrets/s", {"value": "v"}, "secrets/setSecret/action", "secrets/s", "secrets set"),
    ("PATCH", f"/secrets/s/{V}", {}, "secrets/update/action", "secrets/s", "secrets set"),
    ("GET", "/secrets", None, "secrets/readMetadata/action", None, "secrets list"),
    ("GET", "/secrets/s/versions", None, "secrets/readMetadata/action", "secrets/s",
     "secrets list"),
    ("DELETE", "/secrets/s", None, "secrets/delete", "secrets/s", "secrets delete"),
    ("GET", "/deletedsecrets", None, "secrets/readMetadata/action", None, "secrets list"),
    ("GET", "/deletedsecrets/s", None, "secrets/readMetadata/action", "secrets/s",
     "secrets list"),
    ("POST", "/deletedsecrets/s/recover", None, "secrets/recover/action", "secrets/s",
     "secrets recover"),
    ("DELETE", "/deletedsecrets/s", None, "secrets/purge/action", "secrets/s", "secrets purge"),
    ("POST", "/secrets/s/backup", None, "secrets/backup/action", "secrets/s", "secrets backup"),
    ("POST", "/secrets/restore", {"value": "x"}, "secrets/restore/action", None,
     "secrets restore"),
    ("GET", "/keys/k", None, "keys/read", "keys/k", "keys get"),
    ("GET", f"/keys/k/{V}", None, "keys/read", "keys/k", "keys get"),
    ("GET", "/keys", None, "keys/read", None, "keys list"),
    ("GET", "/keys/k/versions", None, "keys/read", "keys/k", "keys list"),
    ("POST", "/keys/k/create", {"kty": "EC"}, "keys/create/action", "keys/k", "keys create"),
    ("PUT", "/keys/k", {"key": {}}, "keys/import/action", "keys/k", "keys import"),
    ("PATCH", "/keys/k/", {}, "keys/update/action", "keys/k", "keys update"),
    ("DELETE", "/keys/k", None, "keys/delete", "keys/k", "keys delete"),
    ("GET", "/deletedkeys", None, "keys/read", None, "keys list"),
    ("GET", "/deletedkeys/k", None, "keys/read", "keys/k", "keys list"),
    ("POST", "/deletedkeys/k/recover", None, "keys/recover/action", "keys/k", "keys recover"),
    ("DELETE", "/deletedkeys/k", None, "keys/purge/action", "keys/k", "keys purge"),
    ("POST", "/keys/k/backup", None, "keys/backup/action", "keys/k", "keys backup"),
    ("POST", "/keys/restore", {"value": "x"}, "keys/restore/action", None, "keys restore"),
    ("POST", f"/keys/k/{V}/encrypt", {}, "keys/encrypt/action", "keys/k", "keys encrypt"),
    ("POST", f"/keys/k/{V}/decrypt", {}, "keys/decrypt/action", "keys/k", "keys decrypt"),
    ("POST", f"/keys/k/{V}/sign", {}, "keys/sign/action", "keys/k", "keys sign"),
    ("POST", f"/keys/k/{V}/verify", {}, "keys/verify/action", "keys/k", "keys verify"),
    ("POST", f"/keys/k/{V}/wrapkey", {}, "keys/wrap/action", "keys/k", "keys wrapKey"),
    ("POST", f"/keys/k/{V}/unwrapkey", {}, "keys/unwrap/action", "keys/k", "keys unwrapKey"),
]
IDS = [f"{method} {path}" for method, path, *_ in OPERATIONS]


@pytest.fixture
def stranger(kv):
    app = kv.new_app("stranger")
    return app, fetch_token(kv.cloud, app)


@pytest.mark.parametrize(("method", "path", "body", "action", "object_path", "permission"),
                         OPERATIONS, ids=IDS)
def test_rbac_denial_names_the_data_action(kv, stranger, method, path, body, action,
                                           object_path, permission):
    app, token = stranger
    resource = kv.vault["id"].lower() + (f"/{object_path}" if object_path else "")
    assert error_of(kv.call(method, path, json=body, token=token)) == (403, {"error": {
        "code": "Forbidden",
        "message": "Caller is not authorized to perform action on resource.\r\n"
                   "If role assignments, deny assignments or role definitions were changed "
                   "recently, please observe propagation time.\r\n"
                   f"Caller: appid={app.client_id};oid={app.object_id};"
                   f"iss=https://sts.windows.net/{kv.cloud.tenant_id}/\r\n"
                   f"Action: 'Microsoft.KeyVault/vaults/{action}'\r\n"
                   f"Resource: '{resource}'\r\n"
                   "Assignment: (not found)\r\n"
                   "DenyAssignmentId: null\r\n"
                   "DecisionReason: null\r\n"
                   f"Vault: {kv.name};location=westeurope\r\n",
        "innererror": {"code": "ForbiddenByRbac"}}})


@pytest.fixture
def policy_vault(shared_local_cloud, request):
    """A vault in the access-policy model where ``limited`` may only do secrets get/list."""
    cloud = shared_local_cloud
    limited = cloud.seed.app("limited")
    name = "pol" + request.node.name[-6:].lower().replace("[", "").replace("]", "")
    name = "".join(c for c in name if c.isalnum())[:20] + "x"
    vault = cloud.seed.vault(name, rbac=False, access_policies=[{
        "tenantId": cloud.tenant_id, "objectId": limited.object_id,
        "permissions": {"secrets": ["Get", "List"], "keys": [], "certificates": []}}])
    return cloud, vault, limited, fetch_token(cloud, limited)


@pytest.mark.parametrize(("method", "path", "body", "action", "object_path", "permission"),
                         [op for op in OPERATIONS if op[5] not in ("secrets get", "secrets list")],
                         ids=[i for i, op in zip(IDS, OPERATIONS, strict=True)
                              if op[5] not in ("secrets get", "secrets list")])
def test_access_policy_denial_names_the_permission(kv, policy_vault, method, path, body,
                                                   action, object_path, permission):
    cloud, vault, limited, token = policy_vault
    response = kv.call(method, path, json=body, token=token, url=cloud.vault_url(vault["name"])
                       + path)
    assert error_of(response) == (403, {"error": {
        "code": "Forbidden",
        "message": "The user, group or application "
                   f"'appid={limited.client_id};oid={limited.object_id};"
                   f"iss=https://sts.windows.net/{cloud.tenant_id}/' does not have {permission} "
                   f"permission on key vault '{vault['name']};location=westeurope'. For help "
                   "resolving this issue, please see "
                   "https://go.microsoft.com/fwlink/?linkid=2125287",
        "innererror": {"code": "AccessDenied"}}})


def test_access_policy_allows_what_it_lists(kv, policy_vault):
    cloud, vault, _, token = policy_vault
    url = cloud.vault_url(vault["name"])
    assert kv.call("GET", "/secrets", token=token, url=url + "/secrets").json() == {
        "value": [], "nextLink": None}
    assert error_of(kv.call("GET", "/secrets/x", token=token, url=url + "/secrets/x"))[1][
        "error"]["code"] == "SecretNotFound"


def test_object_scope_and_role_changes_apply_at_once(kv):
    reader = kv.new_app("reader")
    token = fetch_token(kv.cloud, reader)
    kv.call("PUT", "/secrets/shared", json={"value": "v1"})
    kv.call("PUT", "/secrets/private", json={"value": "v2"})
    assert kv.call("GET", "/secrets/shared", token=token).status_code == 403
    assignment = assign_role(kv.cloud, reader.object_id, SECRETS_USER,
                             kv.vault["id"] + "/secrets/shared")
    granted = kv.call("GET", "/secrets/shared", token=token)
    assert granted.json()["value"] == "v1"
    assert granted.headers["x-ms-keyvault-rbac-assignment-id"] == assignment
    assert kv.call("GET", "/secrets/private", token=token).status_code == 403
    assert kv.call("GET", "/keys", token=token).status_code == 403
    kv.cloud.store.delete("arm", assignment.lower())
    assert kv.call("GET", "/secrets/shared", token=token).status_code == 403


def test_crypto_user_cannot_create_keys(kv):
    user = kv.new_app("crypto-user", CRYPTO_USER)
    token = fetch_token(kv.cloud, user)
    assert kv.call("GET", "/keys", token=token).status_code == 200
    status, body = error_of(kv.call("POST", "/keys/k/create", json={"kty": "EC"}, token=token))
    assert status == 403 and "Action: 'Microsoft.KeyVault/vaults/keys/create/action'" in body[
        "error"]["message"]


def test_local_account_is_administrator_everywhere(kv):
    """The local signed-in account holds Key Vault Administrator on the default subscription
    (contract §3.4): it may write any vault there without an assignment on the vault."""
    account = json.loads((kv.cloud.home / "cloud" / "cli-credential.json").read_text())
    app = AppCredential(account["tenantId"], account["clientId"], account["objectId"],
                        account["clientSecret"])
    assert kv.secret_client(app).set_secret("by-account", "v").value == "v"
