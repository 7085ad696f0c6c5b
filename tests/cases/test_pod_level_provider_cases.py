"""The provider cases whose outcome is about the whole mount, end to end at pod level.

One world for the module (``kvcsi up -d``, a one-node cluster, driver and provider installed,
see :mod:`tests.cases.pod_level_world`); each case in its own namespace, all applied at once.
"Mount fails" is checked as ``shared/cases/README.md`` defines it: the exact FailedMount text,
repeated on kubelet's retries; the pod stays ContainerCreating; no SecretProviderClassPodStatus;
no file in the pod's target directory; no synced Secret. Recoveries (BB-19, BB-23) change only
the cloud, never the pod. BB-01/02 also show, from the vault's audit log, that no request
reached Key Vault. BB-05 shows the provider's warning as a ``ProviderWarning`` pod event.

BB-25 at pod level: the local cloud answers every ``<name>.vault.localhost`` host, so a
missing vault is the service's ``VaultNotFound`` naming the host; the DNS failure itself
(``no such host``) is tested at provider level (test_bb25_vault_name.py) with a stubbed
resolver, since a real lookup of a missing name would leave the machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.cases.kvcsi_rotation_world import build_world
from tests.cases.pod_level_world import (
    CREDS_SECRET,
    USED_LABEL,
    Case,
    PodLevelWorld,
    opaque_secret,
)
from tests.support.provider_world import objects_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.requires_root]

SECRET = "objectName: MySecret\nobjectType: secret"
OTHER = "objectName: MyOther\nobjectType: secret"
UNKNOWN_KEY = 'unknown parameter "userAssignedIdentityId" (did you mean "userAssignedIdentityID"?)'
NO_TENANT = "99999999-9999-9999-9999-999999999999"
ELEMENT_BROKEN = ("array:\n  - |\n    objectName: MySecret\n    objectType: secret\n"
                  "      objectAlias: my-alias\n")


def failed_mount_prefix(namespace: str) -> str:
    return (f'MountVolume.SetUp failed for volume "kv" : rpc error: code = Unknown desc = '
            f"failed to mount secrets store objects for pod {namespace}/mypod, err: rpc error: "
            "code = Unknown desc = failed to mount objects, error: ")


def build_cases(world: PodLevelWorld, tenant: str, client_id: str) -> list[Case]:
    mi = {"keyvaultName": "MyKeyVault", "tenantId": tenant, "useVMManagedIdentity": "true",
          "userAssignedIdentityID": client_id}
    sp = {"keyvaultName": "MyKeyVault", "tenantId": tenant}
    creds = {"ClientID": world.sp_app_id, "ClientSecret": world.sp_password}
    return [
        Case("bb01", {**mi, "keyvaultName": "ParseVault"}, ELEMENT_BROKEN),
        Case("bb02", {**mi, "keyvaultName": "ParseVault"},
             objects_yaml(SECRET, "objectName: MyCert\nobjectType: cert\nobjectFormat: PFX")),
        Case("bb05", {**{k: v for k, v in mi.items() if k != "userAssignedIdentityID"},
                      "userAssignedIdentityId": client_id}, objects_yaml(SECRET)),
        Case("bb16", sp, objects_yaml(SECRET), secret_ref=CREDS_SECRET,
             extra=[opaque_secret("bb16", creds, USED_LABEL)]),
        Case("bb16-a", sp, objects_yaml(SECRET), secret_ref=CREDS_SECRET,
             extra=[opaque_secret("default", creds, USED_LABEL)]),
        Case("bb16-b", sp, objects_yaml(SECRET), secret_ref=CREDS_SECRET,
             extra=[opaque_secret("bb16-b", {"client-id": world.sp_app_id,
                                             "client-secret": world.sp_password}, USED_LABEL)]),
        Case("bb16-d", sp, objects_yaml(SECRET), secret_ref=CREDS_SECRET,
             extra=[opaque_secret("bb16-d", creds)]),
        Case("bb17-a", {**sp, "tenantId": NO_TENANT}, objects_yaml(SECRET),
             secret_ref=CREDS_SECRET, extra=[opaque_secret("bb17-a", creds, USED_LABEL)]),
        Case("bb17-c", {"keyvaultName": "MyKeyVault", "tenantid": tenant}, objects_yaml(SECRET),
             secret_ref=CREDS_SECRET, extra=[opaque_secret("bb17-c", creds, USED_LABEL)]),
        Case("bb19", mi, objects_yaml(
            SECRET, "objectName: MyCert\nobjectType: cert\nobjectAlias: cert.pem",
            "objectName: MyCert\nobjectType: secret\nobjectAlias: bundle.pem")),
        Case("bb23", mi, objects_yaml("objectName: MyGone\nobjectType: secret", OTHER),
             sync_file="MyGone"),
        Case("bb23-new", mi, objects_yaml("objectName: MyLater\nobjectType: secret", OTHER),
             sync_file="MyLater"),
        Case("bb25", {**mi, "keyvaultName": "MyMissingVault"}, objects_yaml(SECRET)),
        Case("bb25-name", {**mi, "keyvaultName": "ab"}, objects_yaml(SECRET)),
    ]


@pytest.fixture(scope="module")
def pods(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodLevelWorld]:
    base = build_world(tmp_path_factory.mktemp("podlevel") / "home")
    world = PodLevelWorld(base)
    try:
        sub = world.az("account", "show", "--query", "id", "-o", "tsv")
        vault_scope = (f"/subscriptions/{sub}/resourceGroups/rg/providers/"
                       "Microsoft.KeyVault/vaults/MyKeyVault")
        world.az("keyvault", "create", "-n", "ParseVault", "-g", "rg")
        for name, value in (("MyOther", "other"), ("MyGone", "gone-value")):
            world.az("keyvault", "secret", "set", "--vault-name", "MyKeyVault", "--name", name,
                     "--value", value)
        world.az("keyvault", "secret", "delete", "--vault-name", "MyKeyVault", "--name",
                 "MyGone")
        policy = world.az("keyvault", "certificate", "get-default-policy")
        world.az("keyvault", "certificate", "create", "--vault-name", "MyKeyVault", "-n",
                 "MyCert", "--policy", policy)
        sp = json.loads(world.az("ad", "sp", "create-for-rbac", "-n", "secrets-store-creds",
                                 "--role", "Key Vault Secrets User", "--scopes", vault_scope))
        world.sp_app_id, world.sp_password = sp["appId"], sp["password"]
        world.vault_scope = vault_scope
        world.apply_cases(build_cases(world, base.tenant, base.client_id))
        yield world
    finally:
        base.stop()
    leaking = [path for path, data in world.kvcsi.log_texts().items()
               if b"s3cr3t" in data or world.sp_password.encode() in data]
    assert leaking == []


def wait_failed_mount(world: PodLevelWorld, namespace: str, containing: str,
                      repeats: int = 2) -> str:
    """The FailedMount message containing ``containing`` once kubelet has retried."""
    found: list[str] = []

    def repeated() -> bool:
        events = [e for e in world.pod_events(namespace, "FailedMount")
                  if containing in e["message"]]
        if events and int(events[0].get("count") or 1) >= repeats:
            found.append(events[0]["message"])
            return True
        return False

    world.kvcsi.wait_for(repeated, timeout=45, interval=0.5)
    return found[0]


def assert_mount_failed(world: PodLevelWorld, namespace: str) -> None:
    """Pod not started, no pod status record, no file, no synced Secret."""
    pod = world.pod(namespace)
    assert pod["status"]["phase"] == "Pending"
    state = pod["status"]["containerStatuses"][0]["state"]
    assert state == {"waiting": {"reason": "ContainerCreating"}}
    statuses = world.kvcsi.run("kubectl", "get", "secretproviderclasspodstatuses", "-n",
                               namespace)
    assert statuses.stdout == ""
    assert statuses.stderr.strip() == f"No resources found in {namespace} namespace."
    target = world.target(namespace)
    assert not target.exists() or list(target.iterdir()) == []
    assert world.synced_secret(namespace) is None


def wait_mounted(world: PodLevelWorld, namespace: str, timeout: float = 30) -> None:
    world.world.kubectl("wait", "--for=condition=Ready", "pod/mypod", "-n", namespace,
                        f"--timeout={timeout:g}s")


def test_bb01_bb02_config_errors_name_the_layer_and_reach_no_vault(pods: PodLevelWorld) -> None:
    message = wait_failed_mount(pods, "bb01", "unmarshal failed")
    assert message == failed_mount_prefix("bb01") + (
        "unmarshal failed for keyVaultObjects at index 0, error: yaml: line 3: mapping "
        "values are not allowed here (objects element 0, line 3, column 14: "
        '"  objectAlias: my-alias")')
    message = wait_failed_mount(pods, "bb02", "PFX format")
    assert message == failed_mount_prefix("bb02") + (
        "failed to get objectType:cert, objectName:MyCert, objectVersion:: PFX format only "
        "supported for objectType: secret (objects element 1)")
    for namespace in ("bb01", "bb02"):
        assert_mount_failed(pods, namespace)
    audit = json.loads(pods.kvcsi.out("audit", "--vault", "ParseVault", "-o", "json"))
    assert audit == []


def test_bb05_misspelt_key_is_a_pod_warning_event(pods: PodLevelWorld) -> None:
    wait_mounted(pods, "bb05")  # one identity on the node: IMDS picks it, the mount works

    def warned() -> bool:
        return bool(pods.pod_events("bb05", "ProviderWarning"))

    pods.kvcsi.wait_for(warned, timeout=10)
    event = pods.pod_events("bb05", "ProviderWarning")[0]
    assert event["type"] == "Warning"
    assert event["message"] == ('provider "azure" warns about SecretProviderClass '
                                f"bb05/my-spc: {UNKNOWN_KEY}")
    describe = pods.kvcsi.out("kubectl", "describe", "pod", "mypod", "-n", "bb05")
    assert UNKNOWN_KEY in describe
    assert "ProviderWarning" in describe


def test_bb16_service_principal_from_the_pods_namespace(pods: PodLevelWorld) -> None:
    wait_mounted(pods, "bb16")  # keys ClientID / ClientSecret: matched case-insensitively
    assert (pods.target("bb16") / "MySecret").read_bytes() == b"s3cr3t"
    assert pods.synced_secret("bb16") == b"s3cr3t"
    # (d) the label secrets-store.csi.k8s.io/used is missing: the first mount still works
    wait_mounted(pods, "bb16-d")
    assert (pods.target("bb16-d") / "MySecret").read_bytes() == b"s3cr3t"

    # (a) the ref Secret exists only in default: no cross-namespace lookup
    message = wait_failed_mount(pods, "bb16-a", "NodePublishSecretRef")
    assert message == ('MountVolume.SetUp failed for volume "kv" : fetching NodePublishSecretRef '
                       'bb16-a/secrets-store-creds failed: secrets "secrets-store-creds" not '
                       "found")
    # (b) keys client-id / client-secret
    message = wait_failed_mount(pods, "bb16-b", "could not find")
    assert message == failed_mount_prefix("bb16-b") + (
        "failed to build auth config for mode None: could not find clientid in secrets")
    for namespace in ("bb16-a", "bb16-b"):
        assert_mount_failed(pods, namespace)


def test_bb17_wrong_or_missing_tenant(pods: PodLevelWorld) -> None:
    message = wait_failed_mount(pods, "bb17-a", "AADSTS90002")
    assert message.startswith(failed_mount_prefix("bb17-a") + (
        "failed to get objectType:secret, objectName:MySecret, objectVersion:: "))
    assert (f"Entra answered: AADSTS90002: Tenant '{NO_TENANT}' not found. Check to make sure "
            "you have the correct tenant ID") in message
    # (c) the key written as tenantid: refused before any network call, and the provider's
    # warning names the right key, in the FailedMount text and as a pod event
    message = wait_failed_mount(pods, "bb17-c", "tenantId is not provided")
    assert message == failed_mount_prefix("bb17-c") + (
        'tenantId is not provided\nwarning: unknown parameter "tenantid" (did you mean '
        '"tenantID"?)')
    warnings = [(e["type"], e["message"]) for e in pods.pod_events("bb17-c", "ProviderWarning")]
    assert warnings == [("Warning", 'provider "azure" warns about SecretProviderClass '
                         'bb17-c/my-spc: unknown parameter "tenantid" (did you mean '
                         '"tenantID"?)')]
    for namespace in ("bb17-a", "bb17-c"):
        assert_mount_failed(pods, namespace)


def test_bb19_forbidden_by_rbac_then_a_role_assignment_mounts(pods: PodLevelWorld) -> None:
    message = wait_failed_mount(pods, "bb19", "ForbiddenByRbac")
    assert message.startswith(failed_mount_prefix("bb19") + (
        "failed to get objectType:cert, objectName:MyCert, objectVersion:: "))
    assert "\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n" in message
    assert '"innererror": {\n      "code": "ForbiddenByRbac"' in message
    assert "Action: 'Microsoft.KeyVault/vaults/certificates/read'" in message
    assert_mount_failed(pods, "bb19")

    kubelet_client_id = pods.world.client_id
    pods.az("role", "assignment", "create", "--role", "Key Vault Certificate User",
            "--assignee", kubelet_client_id, "--scope", pods.vault_scope)
    wait_mounted(pods, "bb19")
    target = pods.target("bb19")
    assert sorted(p.name for p in target.iterdir() if not p.name.startswith("..")) == [
        "MySecret", "bundle.pem", "cert.pem"]
    assert (target / "cert.pem").read_bytes().count(b"-----BEGIN CERTIFICATE-----") == 1


def test_bb23_missing_and_deleted_secrets_then_recovery(pods: PodLevelWorld) -> None:
    for namespace, name in (("bb23", "MyGone"), ("bb23-new", "MyLater")):
        message = wait_failed_mount(pods, namespace, "SecretNotFound")
        assert message.startswith(failed_mount_prefix(namespace) + (
            f"failed to get objectType:secret, objectName:{name}, objectVersion:: GET "))
        assert "\nRESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n" in message
        assert f"A secret with (name/id) {name} was not found in this key vault." in message
        assert "deletedsecrets" not in message.lower()
        assert_mount_failed(pods, namespace)  # not even MyOther is visible

    pods.az("keyvault", "secret", "recover", "--vault-name", "MyKeyVault", "--name", "MyGone")
    pods.az("keyvault", "secret", "set", "--vault-name", "MyKeyVault", "--name", "MyLater",
            "--value", "later-value")
    for namespace, name, value in (("bb23", "MyGone", b"gone-value"),
                                   ("bb23-new", "MyLater", b"later-value")):
        wait_mounted(pods, namespace)
        target = pods.target(namespace)
        assert (target / name).read_bytes() == value
        assert (target / "MyOther").read_bytes() == b"other"
        pods.kvcsi.wait_for(lambda ns=namespace, v=value: pods.synced_secret(ns) == v,
                            timeout=15)
        statuses = pods.kvcsi.out("kubectl", "get", "secretproviderclasspodstatuses", "-n",
                                  namespace, "-o", "name")
        assert statuses == ("secretproviderclasspodstatus.secrets-store.csi.x-k8s.io/"
                            f"mypod-{namespace}-my-spc")


def test_bb25_missing_vault_and_invalid_name(pods: PodLevelWorld) -> None:
    started = time.monotonic()
    message = wait_failed_mount(pods, "bb25-name", "Invalid vault name")
    assert message == failed_mount_prefix("bb25-name") + (
        'failed to get vault: Invalid vault name: "ab", must be between 3 and 24 chars')
    message = wait_failed_mount(pods, "bb25", "MyMissingVault", repeats=1)
    assert message.startswith(failed_mount_prefix("bb25") + (
        "failed to get objectType:secret, objectName:MySecret, objectVersion:: GET "
        "https://MyMissingVault."))
    assert "\nRESPONSE 404: 404 Not Found\nERROR CODE: VaultNotFound\n" in message
    assert "No vault answers at 'mymissingvault.vault.localhost:" in message
    assert "DeadlineExceeded" not in message
    assert time.monotonic() - started < 45
    for namespace in ("bb25", "bb25-name"):
        assert_mount_failed(pods, namespace)
