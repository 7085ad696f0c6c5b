"""``kvcsi explain``: identity and pod forms against a running local cloud, exact outputs."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rbac.cli_runner import Kvcsi
from rbac.world import assign, attach
from support.local_cloud import LocalCloud, ScaleSetVm, running_local_cloud

from kvcsi.cloud.arm import roles
from kvcsi.cluster import connect
from kvcsi.cluster.bundled import DRIVER_MANIFEST
from kvcsi.cluster.manifests import apply_documents, load_file

GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"


@dataclass
class World:
    cloud: LocalCloud
    kvcsi: Kvcsi
    vault: dict[str, Any]
    allowed_app: dict[str, Any]
    reader_app: dict[str, Any]
    vm: ScaleSetVm
    system: dict[str, Any]
    grant: dict[str, Any]


def _cluster(cloud: LocalCloud, vm: ScaleSetVm) -> Any:
    directory = cloud.home / "clusters" / "c1"
    directory.mkdir(parents=True)
    (directory / "cluster.json").write_text(json.dumps({
        "name": "c1", "resourceId": "/subscriptions/x/managedClusters/c1",
        "nodes": [{"name": "aks-nodepool1-vmss000000", "vmId": vm.vm_id,
                   "imdsEndpoint": vm.imds_endpoint}]}))
    (cloud.home / "current-cluster").write_text("c1\n")
    store = connect(str(directory / "store.db"), create=True)
    documents = [d for d in load_file(str(DRIVER_MANIFEST))
                 if d.obj.get("kind") == "CustomResourceDefinition"]
    assert apply_documents(store, documents).exit_code == 0
    return store


def _spc(name: str, parameters: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"provider": "azure", "parameters": parameters}}


def _pod(name: str, spc: str, node: str | None = "aks-nodepool1-vmss000000"
         ) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "busybox", "image": "busybox"}],
        "volumes": [{"name": "secrets-store01-inline", "csi": {
            "driver": "secrets-store.csi.k8s.io", "readOnly": True,
            "volumeAttributes": {"secretProviderClass": spc}}}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_local_cloud(tmp_path_factory.mktemp("explain") / "home") as cloud:
        seed = cloud.seed
        vault = seed.vault("expkv")
        allowed_app = seed.principal("explain-app")
        grant = assign(seed, allowed_app["id"], roles.KEY_VAULT_SECRETS_USER, vault["id"])
        reader_app = seed.principal("reader-app")
        assign(seed, reader_app["id"], roles.KEY_VAULT_READER, vault["id"])
        vm = seed.scale_set_vm(user_assigned=1)
        kubelet = vm.user_assigned[0]
        assign(seed, kubelet["properties"]["principalId"], roles.KEY_VAULT_SECRETS_USER,
               vault["id"])
        system = attach(seed, vm.vmss, system_assigned=True)
        assert system is not None
        store = _cluster(cloud, vm)
        objects = "array:\n  - |\n    objectName: db-password\n    objectType: secret\n"
        common = {"keyvaultName": "expkv", "tenantId": seed.tenant_id, "objects": objects,
                  "useVMManagedIdentity": "true"}
        store.create(_spc("default-identity", common))
        store.create(_spc("kubelet-identity", {
            **common, "userAssignedIdentityID": kubelet["properties"]["clientId"]}))
        store.create(_spc("workload", {"keyvaultName": "expkv", "tenantId": seed.tenant_id,
                                       "objects": objects,
                                       "clientID": reader_app["appId"]}))
        store.create(_pod("uses-default", "default-identity"))
        store.create(_pod("uses-kubelet", "kubelet-identity", node=None))
        store.create(_pod("uses-workload", "workload"))
        store.create(_pod("missing-class", "no-such-class"))
        store.create(_spc("service-principal", {"keyvaultName": "expkv",
                                                "tenantId": seed.tenant_id, "objects": objects}))
        store.create({"apiVersion": "v1", "kind": "Secret",
                      "metadata": {"name": "secrets-store-creds", "namespace": "default"},
                      "data": {"clientid": base64.b64encode(
                          allowed_app["appId"].encode()).decode(),
                               "clientsecret": base64.b64encode(b"not-shown").decode()}})
        sp_pod = _pod("uses-sp", "service-principal")
        sp_pod["spec"]["volumes"][0]["csi"]["nodePublishSecretRef"] = {
            "name": "secrets-store-creds"}
        store.create(sp_pod)
        store.close()
        yield World(cloud, Kvcsi(cloud.home), vault, allowed_app, reader_app, vm, system,
                    grant)


def test_allowed_identity_text(world: World):
    app, vault = world.allowed_app, world.vault
    result = world.kvcsi("explain", "--assignee", "explain-app", "--vault", "expkv",
                         "--secret", "db-password")

    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"identity 'explain-app' (client id {app['appId']}, object id {app['id']}); "
        "vault 'expkv' uses Azure RBAC\n"
        f"  ALLOWED: getSecret on secret 'db-password' in vault 'expkv' ({GET_SECRET})\n"
        "    granted by role 'Key Vault Secrets User' assigned at scope "
        f"'{vault['id']}'\n"
        f"    role assignment: {world.grant['id']}\n"
        "result: ALLOWED\n")


def test_denied_identity_text_names_the_missing_data_action(world: World):
    result = world.kvcsi("explain", "--assignee", world.reader_app["appId"], "--vault",
                         "expkv", "--secret", "db-password")

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1] == (f"  DENIED: getSecret on secret 'db-password' in vault 'expkv' "
                        f"({GET_SECRET})")
    assert lines[2] == ("    Key Vault answers 403 Forbidden (ForbiddenByRbac) for resource "
                        f"'{world.vault['id']}/secrets/db-password'")
    assert lines[3] == "    nearest miss:"
    assert lines[4].startswith(
        f"      - [missing-data-action] role 'Key Vault Reader' assigned at scope "
        f"'{world.vault['id']}' applies here but lacks the data action '{GET_SECRET}'")
    assert lines[-1] == "result: DENIED"


def test_json_output(world: World):
    result = world.kvcsi("explain", "--assignee", world.allowed_app["id"], "--vault", "expkv",
                         "--action", "listSecrets", "-o", "json")

    assert result.exit_code == 0, result.stderr
    answer = result.json()
    assert answer["allowed"] is True
    assert answer["identity"]["displayName"] == "explain-app"
    assert [(c["action"], c["object"], c["grantedBy"]["roleName"]) for c in answer["checks"]] \
        == [("listSecrets", None, "Key Vault Secrets User")]


@pytest.mark.parametrize(("argv", "message"), [
    (("--assignee", "nobody", "--vault", "expkv"),
     "ERROR: (PrincipalNotFound) Cannot find user or service principal in graph database for "
     "'nobody'."),
    (("--assignee", "explain-app", "--vault", "expkvv"),
     "ERROR: (VaultNotFound) The vault 'expkvv' does not exist in the local cloud (did you "
     "mean 'expkv'?). Vaults: expkv."),
])
def test_unanswerable_questions_exit_2(world: World, argv, message):
    result = world.kvcsi("explain", *argv)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == message


def test_pod_with_system_assigned_identity_is_denied_and_names_the_kubelet_identity(
        world: World):
    kubelet = world.vm.user_assigned[0]
    result = world.kvcsi("explain", "pod", "uses-default")

    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("pod default/uses-default (cluster 'c1'): the pod runs on node "
                        "'aks-nodepool1-vmss000000'")
    assert lines[1] == ("volume 'secrets-store01-inline' -> SecretProviderClass "
                        "'default-identity'")
    assert lines[2] == ("  identity mode: VM managed identity without userAssignedIdentityID "
                        "(IMDS picks the identity)")
    assert lines[4] == (
        "  IMDS token request without client_id (userAssignedIdentityID is empty): IMDS "
        "returns the system-assigned identity (IMDS prefers it whenever one is attached): "
        f"identity '{world.vm.vmss['name']}' (system-assigned identity of scale set "
        f"'{world.vm.vmss['name']}')")
    text = result.stdout
    assert "[other-identity] identity '" + kubelet["name"] + "' on the same scale set" in text
    assert f"use client id '{kubelet['properties']['clientId']}'" in text
    assert lines[-1] == "result: DENIED"


def test_pod_with_user_assigned_identity_id_is_allowed(world: World):
    result = world.kvcsi("explain", "pod", "uses-kubelet", "-n", "default", "-o", "json")

    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["placement"] == ("the pod is not scheduled yet; assuming node "
                                   "'aks-nodepool1-vmss000000'")
    [volume] = report["volumes"]
    kubelet = world.vm.user_assigned[0]
    assert volume["explanation"]["identity"]["clientId"] == kubelet["properties"]["clientId"]
    assert volume["explanation"]["checks"][0]["grantedBy"]["roleName"] == \
        "Key Vault Secrets User"


def test_pod_with_workload_identity_uses_the_client_id(world: World):
    result = world.kvcsi("explain", "pod", "uses-workload", "-o", "json")

    assert result.exit_code == 1
    [volume] = result.json()["volumes"]
    assert volume["identityMode"].startswith(
        f"workload identity, clientID '{world.reader_app['appId']}'")
    assert volume["explanation"]["checks"][0]["nearestMisses"][0]["kind"] == \
        "missing-data-action"


def test_pod_with_a_service_principal_from_node_publish_secret_ref(world: World):
    result = world.kvcsi("explain", "pod", "uses-sp")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2] == ("  identity mode: service principal from nodePublishSecretRef, client "
                        f"id '{world.allowed_app['appId']}'")
    assert "not-shown" not in result.stdout
    assert lines[-1] == "result: ALLOWED"


def test_pod_with_a_missing_secret_provider_class(world: World):
    result = world.kvcsi("explain", "pod", "missing-class")

    assert result.exit_code == 1
    assert result.stdout.splitlines()[2] == (
        "  DENIED: the mount fails: failed to get secretproviderclass default/no-such-class, "
        "error: SecretProviderClass.secrets-store.csi.x-k8s.io \"no-such-class\" not found")


def test_missing_pod_exits_2(world: World):
    result = world.kvcsi("explain", "pod", "ghost", "-n", "team")

    assert result.exit_code == 2
    assert result.stderr == ('error: pods "ghost" not found in namespace "team" of cluster '
                             "'c1'\n")


def test_text_for_an_imds_refusal_names_the_identity_to_use():
    from kvcsi.cli.explain_text import answer_lines

    answer = {
        "allowed": False, "identity": None, "checks": [],
        "steps": ["node VM 'vm_0' belongs to scale set 'vmss'"],
        "identityError": {"status": 400, "error": "invalid_request",
                          "error_description": "Multiple user assigned identities exist, "
                                               "please specify the clientId / resourceId of "
                                               "the identity in the token request"},
        "vmIdentities": [
            {"name": "identity 'kubelet' (kubelet identity of cluster 'c')", "clientId": "k-1",
             "wouldBeAllowed": True},
            {"name": "identity 'addon'", "clientId": "a-1", "wouldBeAllowed": False}],
        "vault": {"name": "kv", "id": "/x", "permissionModel": "rbac"},
    }

    assert answer_lines(answer, indent="  ") == [
        "  node VM 'vm_0' belongs to scale set 'vmss'",
        "  DENIED: no token: IMDS answers 400 invalid_request: Multiple user assigned "
        "identities exist, please specify the clientId / resourceId of the identity in the "
        "token request",
        "    identity 'kubelet' (kubelet identity of cluster 'c') would be allowed: set "
        "userAssignedIdentityID to 'k-1'",
    ]
