"""The RBAC matrix: roles × scopes × objects × operations through the real local Key Vault.

Every case creates a fresh service principal, gives it the case's role assignments (or access
policy), then calls the vault over HTTPS with the official SDK and ClientSecretCredential,
asserting Key Vault's exact answer: 200, 404 SecretNotFound, or 403 Forbidden with
``innererror.code`` ForbiddenByRbac (RBAC vaults) / AccessDenied (access-policy vaults).
Each case also asks ``explain`` the same question: its verdict must match Key Vault's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from support.local_cloud import AppCredential, LocalCloud, running_local_cloud

from kvcsi.cloud.arm import roles
from kvcsi.cloud.arm.explain_query import answer
from kvcsi.cloud.arm.roles import BuiltInRole

from .world import assign, policy

VAULT, OTHER_VAULT, FAR_VAULT, POLICY_VAULT = "mxkv1", "mxkv2", "mxkv3", "mxpol"
GROUP, OTHER_GROUP = "rg1", "otherrg"
SECRET, OTHER_SECRET = "db-password", "api-key"
KEY, OTHER_KEY, CERTIFICATE = "signing-key", "other-key", "tls-cert"
VALUE = "s3cr3t-matrix-value"


@dataclass(frozen=True)
class Case:
    """One row: grants (role, scope kind), the operation and the vault, the exact answer."""

    name: str
    grants: tuple[tuple[BuiltInRole, str], ...]
    operation: str
    expected: int | str  # 200, "SecretNotFound", "ForbiddenByRbac" or "AccessDenied"
    vault: str = VAULT
    policy: tuple[str, ...] | None = None
    object_name: str = SECRET


@dataclass
class World:
    cloud: LocalCloud
    scopes: dict[str, str] = field(default_factory=dict)
    vault_ids: dict[str, str] = field(default_factory=dict)


SU, SO = roles.KEY_VAULT_SECRETS_USER, roles.KEY_VAULT_SECRETS_OFFICER
KVR, ADMIN = roles.KEY_VAULT_READER, roles.KEY_VAULT_ADMINISTRATOR
CERT_USER, CRYPTO_OFFICER = roles.KEY_VAULT_CERTIFICATE_USER, roles.KEY_VAULT_CRYPTO_OFFICER
DENY_RBAC, DENY_POLICY = "ForbiddenByRbac", "AccessDenied"

CASES = [
    # Key Vault Secrets User at every scope, and beside it
    Case("secrets-user/vault/get", ((SU, "vault"),), "get", 200),
    Case("secrets-user/vault/list", ((SU, "vault"),), "list", 200),
    Case("secrets-user/vault/versions", ((SU, "vault"),), "versions", 200),
    Case("secrets-user/vault/set", ((SU, "vault"),), "set", DENY_RBAC),
    Case("secrets-user/subscription/get", ((SU, "subscription"),), "get", 200),
    Case("secrets-user/resource-group/get", ((SU, "group"),), "get", 200),
    Case("secrets-user/object/get", ((SU, "object"),), "get", 200),
    Case("secrets-user/object/list", ((SU, "object"),), "list", DENY_RBAC),
    Case("secrets-user/other-object/get", ((SU, "other-object"),), "get", DENY_RBAC),
    Case("secrets-user/other-vault/get", ((SU, "other-vault"),), "get", DENY_RBAC),
    Case("secrets-user/other-group/get", ((SU, "other-group"),), "get", DENY_RBAC),
    Case("secrets-user/other-group-vault/get", ((SU, "far-vault"),), "get", DENY_RBAC),
    Case("secrets-user/vault/missing", ((SU, "vault"),), "get", "SecretNotFound",
         object_name="no-such-secret"),
    # Key Vault Secrets Officer
    Case("secrets-officer/vault/set", ((SO, "vault"),), "set", 200),
    Case("secrets-officer/vault/get", ((SO, "vault"),), "get", 200),
    Case("secrets-officer/resource-group/list", ((SO, "group"),), "list", 200),
    Case("secrets-officer/object/set", ((SO, "object"),), "set", 200),
    Case("secrets-officer/other-object/set", ((SO, "other-object"),), "set", DENY_RBAC),
    Case("secrets-officer/other-vault/set", ((SO, "other-vault"),), "set", DENY_RBAC),
    # Key Vault Reader: metadata, never values
    Case("kv-reader/vault/get", ((KVR, "vault"),), "get", DENY_RBAC),
    Case("kv-reader/vault/list", ((KVR, "vault"),), "list", 200),
    Case("kv-reader/subscription/set", ((KVR, "subscription"),), "set", DENY_RBAC),
    # Key Vault Administrator
    Case("administrator/vault/get", ((ADMIN, "vault"),), "get", 200),
    Case("administrator/resource-group/set", ((ADMIN, "group"),), "set", 200),
    Case("administrator/subscription/list", ((ADMIN, "subscription"),), "list", 200),
    Case("administrator/other-vault/get", ((ADMIN, "other-vault"),), "get", DENY_RBAC),
    # certificate and crypto roles against secrets
    Case("certificate-user/vault/get", ((CERT_USER, "vault"),), "get", 200),
    Case("certificate-user/vault/set", ((CERT_USER, "vault"),), "set", DENY_RBAC),
    Case("certificate-user/vault/list", ((CERT_USER, "vault"),), "list", 200),
    Case("crypto-officer/vault/get", ((CRYPTO_OFFICER, "vault"),), "get", DENY_RBAC),
    Case("crypto-officer/vault/list", ((CRYPTO_OFFICER, "vault"),), "list", DENY_RBAC),
    Case("crypto-user/vault/get", ((roles.KEY_VAULT_CRYPTO_USER, "vault"),), "get", DENY_RBAC),
    Case("certificates-officer/vault/get", ((roles.KEY_VAULT_CERTIFICATES_OFFICER, "vault"),),
         "get", DENY_RBAC),
    # control-plane roles have no data actions
    Case("owner/subscription/get", ((roles.OWNER, "subscription"),), "get", DENY_RBAC),
    Case("owner/vault/list", ((roles.OWNER, "vault"),), "list", DENY_RBAC),
    Case("contributor/resource-group/get", ((roles.CONTRIBUTOR, "group"),), "get", DENY_RBAC),
    Case("reader/subscription/list", ((roles.READER, "subscription"),), "list", DENY_RBAC),
    Case("kv-contributor/vault/get", ((roles.KEY_VAULT_CONTRIBUTOR, "vault"),), "get",
         DENY_RBAC),
    Case("kv-data-access-admin/vault/get",
         ((roles.KEY_VAULT_DATA_ACCESS_ADMINISTRATOR, "vault"),), "get", DENY_RBAC),
    # nothing at all: authorization precedes existence
    Case("none/get", (), "get", DENY_RBAC),
    Case("none/list", (), "list", DENY_RBAC),
    Case("none/missing", (), "get", DENY_RBAC, object_name="no-such-secret"),
    # additive roles
    Case("kv-reader+secrets-user-object/get", ((KVR, "vault"), (SU, "object")), "get", 200),
    Case("kv-reader+secrets-officer-other-object/set",
         ((KVR, "vault"), (SO, "other-object")), "set", DENY_RBAC),
    # access-policy vaults: roles are ignored, policies decide
    Case("policy-get/get", (), "get", 200, vault=POLICY_VAULT, policy=("get",)),
    Case("policy-get/set", (), "set", DENY_POLICY, vault=POLICY_VAULT, policy=("get",)),
    Case("policy-list/list", (), "list", 200, vault=POLICY_VAULT, policy=("list",)),
    Case("policy-list/get", (), "get", DENY_POLICY, vault=POLICY_VAULT, policy=("list",)),
    Case("policy-all/set", (), "set", 200, vault=POLICY_VAULT, policy=("all",)),
    Case("policy-none+secrets-user/get", ((SU, "policy-vault"),), "get", DENY_POLICY,
         vault=POLICY_VAULT),
    Case("policy-none+administrator-subscription/get", ((ADMIN, "subscription"),), "get",
         DENY_POLICY, vault=POLICY_VAULT),
    Case("policy-get-on-rbac-vault/get", (), "get", DENY_RBAC, policy=("get",)),
    # keys
    Case("crypto-user/vault/getKey", ((roles.KEY_VAULT_CRYPTO_USER, "vault"),), "getKey", 200,
         object_name=KEY),
    Case("crypto-user/vault/createKey", ((roles.KEY_VAULT_CRYPTO_USER, "vault"),),
         "createKey", DENY_RBAC, object_name=KEY),
    Case("crypto-officer/key-object/createKey", ((CRYPTO_OFFICER, "key"),), "createKey", 200,
         object_name=KEY),
    Case("crypto-officer/other-key/getKey", ((CRYPTO_OFFICER, "other-key"),), "getKey",
         DENY_RBAC, object_name=KEY),
    Case("crypto-officer/resource-group/listKeys", ((CRYPTO_OFFICER, "group"),), "listKeys",
         200),
    Case("secrets-user/vault/getKey", ((SU, "vault"),), "getKey", DENY_RBAC, object_name=KEY),
    Case("kv-reader/vault/getKey", ((KVR, "vault"),), "getKey", 200, object_name=KEY),
    Case("certificate-user/subscription/getKey", ((CERT_USER, "subscription"),), "getKey", 200,
         object_name=KEY),
    Case("policy-keys-get/getKey", (), "getKey", 200, vault=POLICY_VAULT, object_name=KEY,
         policy=("keys:get",)),
    Case("policy-secrets-all/getKey", (), "getKey", DENY_POLICY, vault=POLICY_VAULT,
         object_name=KEY, policy=("all",)),
    # certificates
    Case("certificate-user/vault/getCertificate", ((CERT_USER, "vault"),), "getCertificate",
         200, object_name=CERTIFICATE),
    Case("certificates-officer/certificate-object/getCertificate",
         ((roles.KEY_VAULT_CERTIFICATES_OFFICER, "certificate"),), "getCertificate", 200,
         object_name=CERTIFICATE),
    Case("certificates-officer/vault/listCertificates",
         ((roles.KEY_VAULT_CERTIFICATES_OFFICER, "vault"),), "listCertificates", 200),
    Case("secrets-user/vault/getCertificate", ((SU, "vault"),), "getCertificate", DENY_RBAC,
         object_name=CERTIFICATE),
    Case("kv-reader/vault/getCertificate", ((KVR, "vault"),), "getCertificate", 200,
         object_name=CERTIFICATE),
    Case("crypto-officer/vault/getCertificate", ((CRYPTO_OFFICER, "vault"),),
         "getCertificate", DENY_RBAC, object_name=CERTIFICATE),
    Case("policy-certificates-get/getCertificate", (), "getCertificate", 200,
         vault=POLICY_VAULT, object_name=CERTIFICATE, policy=("certificates:get",)),
    Case("policy-secrets-get/getCertificate", (), "getCertificate", DENY_POLICY,
         vault=POLICY_VAULT, object_name=CERTIFICATE, policy=("get",)),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    with running_local_cloud(tmp_path_factory.mktemp("kvcsi-home")) as cloud:
        account = json.loads((cloud.home / "cloud" / "cli-credential.json").read_text())
        seed = cloud.seed
        vaults = {
            VAULT: seed.vault(VAULT), OTHER_VAULT: seed.vault(OTHER_VAULT),
            FAR_VAULT: seed.vault(FAR_VAULT, resource_group=OTHER_GROUP),
            POLICY_VAULT: seed.vault(POLICY_VAULT, rbac=False, access_policies=[
                policy(account["objectId"], seed.tenant_id, secrets=["all"], keys=["all"],
                       certificates=["all"])]),
        }
        admin = ClientSecretCredential(account["tenantId"], account["clientId"],
                                       account["clientSecret"], authority=cloud.authority,
                                       disable_instance_discovery=True,
                                       connection_verify=cloud.ca_bundle)
        for name in vaults:
            client = SecretClient(cloud.vault_url(name), admin, connection_verify=cloud.ca_bundle)
            client.set_secret(SECRET, VALUE)
            client.set_secret(OTHER_SECRET, "other-value")
            if name in (VAULT, POLICY_VAULT):
                keys = KeyClient(cloud.vault_url(name), admin, connection_verify=cloud.ca_bundle)
                keys.create_rsa_key(KEY)
                keys.create_rsa_key(OTHER_KEY)
                CertificateClient(cloud.vault_url(name), admin,
                                  connection_verify=cloud.ca_bundle).begin_create_certificate(
                    CERTIFICATE, CertificatePolicy.get_default()).result()
        vault_id = vaults[VAULT]["id"]
        scopes = {
            "subscription": f"/subscriptions/{seed.subscription_id}",
            "group": seed.group_id(GROUP), "other-group": seed.group_id(OTHER_GROUP),
            "vault": vault_id, "object": f"{vault_id}/secrets/{SECRET}",
            "other-object": f"{vault_id}/secrets/{OTHER_SECRET}",
            "key": f"{vault_id}/keys/{KEY}", "other-key": f"{vault_id}/keys/{OTHER_KEY}",
            "certificate": f"{vault_id}/certificates/{CERTIFICATE}",
            "other-vault": vaults[OTHER_VAULT]["id"], "far-vault": vaults[FAR_VAULT]["id"],
            "policy-vault": vaults[POLICY_VAULT]["id"],
        }
        yield World(cloud, scopes, {name: v["id"] for name, v in vaults.items()})


def _operation(world: World, case: Case, credential: ClientSecretCredential
               ) -> Callable[[], Any]:
    url, verify, name = world.cloud.vault_url(case.vault), world.cloud.ca_bundle, \
        case.object_name
    secrets = SecretClient(url, credential, connection_verify=verify)
    keys = KeyClient(url, credential, connection_verify=verify)
    certificates = CertificateClient(url, credential, connection_verify=verify)
    return {
        "get": lambda: secrets.get_secret(name).value,
        "set": lambda: secrets.set_secret(name, VALUE).value,
        "list": lambda: sorted(p.name for p in secrets.list_properties_of_secrets()),
        "versions": lambda: [p.version for p in
                             secrets.list_properties_of_secret_versions(name)],
        "getKey": lambda: keys.get_key(name).name,
        "createKey": lambda: keys.create_rsa_key(name).name,
        "listKeys": lambda: sorted(p.name for p in keys.list_properties_of_keys()),
        "getCertificate": lambda: certificates.get_certificate(name).name,
        "listCertificates": lambda: sorted(
            p.name for p in certificates.list_properties_of_certificates()),
    }[case.operation]


EXPECTED_RESULTS = {
    "get": VALUE, "set": VALUE, "getKey": KEY,
    # a certificate lists its backing secret and key too
    "list": [OTHER_SECRET, SECRET, CERTIFICATE],
    "createKey": KEY, "listKeys": [OTHER_KEY, KEY, CERTIFICATE], "getCertificate": CERTIFICATE,
    "listCertificates": [CERTIFICATE],
}


def _policy_entry(object_id: str, tenant_id: str, permissions: tuple[str, ...]
                  ) -> dict[str, Any]:
    """``("get", "keys:get")`` → secrets [get], keys [get]."""
    lists: dict[str, list[str]] = {"secrets": [], "keys": [], "certificates": []}
    for permission in permissions:
        collection, _, name = permission.rpartition(":")
        lists[collection or "secrets"].append(name)
    return policy(object_id, tenant_id, **lists)


def credential_for(world: World, case: Case) -> tuple[AppCredential, ClientSecretCredential]:
    seed = world.cloud.seed
    app = seed.app(f"matrix-{case.name}")
    for role, scope_kind in case.grants:
        assign(seed, app.object_id, role, world.scopes[scope_kind])
    if case.policy is not None:
        vault = seed.store.get("arm", world.vault_ids[case.vault].lower())
        vault["properties"]["accessPolicies"].append(
            _policy_entry(app.object_id, seed.tenant_id, case.policy))
        seed.store.put("arm", vault["id"].lower(), vault,
                       parent=seed.group_id(GROUP).lower())
    return app, ClientSecretCredential(app.tenant_id, app.client_id, app.client_secret,
                                       authority=world.cloud.authority,
                                       disable_instance_discovery=True,
                                       connection_verify=world.cloud.ca_bundle)


# matrix operation -> (explain action, object type or None for vault-wide operations)
EXPLAIN_ACTIONS = {
    "get": ("getSecret", "secret"), "set": ("setSecret", "secret"),
    "list": ("listSecrets", None), "versions": ("listSecretVersions", "secret"),
    "getKey": ("getKey", "key"), "createKey": ("createKey", "key"), "listKeys": ("listKeys", None),
    "getCertificate": ("getCertificate", "certificate"),
    "listCertificates": ("listCertificates", None),
}


def _explained(world: World, case: Case, app: AppCredential) -> dict[str, Any]:
    action, object_type = EXPLAIN_ACTIONS[case.operation]
    objects = [{"type": object_type, "name": case.object_name}] if object_type else []
    return answer(world.cloud.store, {"identity": {"assignee": app.client_id},
                                      "vault": case.vault, "objects": objects,
                                      "action": action})


def test_matrix_is_large_enough():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_rbac_matrix(world: World, case: Case):
    app, credential = credential_for(world, case)
    call = _operation(world, case, credential)
    explained = _explained(world, case, app)
    assert explained["allowed"] is (case.expected in (200, "SecretNotFound"))
    if not explained["allowed"]:
        assert explained["checks"][0]["expectedResponse"]["innerCode"] == case.expected

    if case.expected == 200:
        result = call()
        if case.operation == "versions":
            assert len(result) >= 1
        else:
            assert result == EXPECTED_RESULTS[case.operation]
        return
    with pytest.raises(HttpResponseError) as failure:
        call()
    body = json.loads(failure.value.response.text())
    if case.expected == "SecretNotFound":
        assert failure.value.status_code == 404
        assert body["error"]["code"] == "SecretNotFound"
        return
    assert failure.value.status_code == 403
    assert body["error"]["code"] == "Forbidden"
    assert body["error"]["innererror"]["code"] == case.expected
