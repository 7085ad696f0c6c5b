"""The Key Vault audit log: what each request records, ``kvcsi audit`` filters and output,
the ring's bound, the management endpoint's access check — and that no secret value, token or
request body is ever recorded."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.keyvault.secrets import SecretClient
from rbac.cli_runner import Kvcsi
from rbac.world import assign, policy
from support.local_cloud import AppCredential, LocalCloud, running_local_cloud

from kvcsi.cloud.arm import roles
from kvcsi.cloud.audit.log import AuditEvent, AuditLog, AuditQuery, now_text
from kvcsi.cloud.audit.requests import RequestedOperation, classify

SECRET_VALUE = "Pa55w0rd-never-in-the-audit-log"
READER_VALUE = "second-never-in-the-log"
GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"


@dataclass
class World:
    cloud: LocalCloud
    kvcsi: Kvcsi
    writer: AppCredential
    stranger: AppCredential
    grant: dict[str, Any]
    version: str


def _client(cloud: LocalCloud, vault: str, app: AppCredential) -> SecretClient:
    return SecretClient(cloud.vault_url(vault), ClientSecretCredential(
        app.tenant_id, app.client_id, app.client_secret, authority=cloud.authority,
        disable_instance_discovery=True, connection_verify=cloud.ca_bundle),
        connection_verify=cloud.ca_bundle)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_local_cloud(tmp_path_factory.mktemp("audit") / "home") as cloud:
        seed = cloud.seed
        vault = seed.vault("audkv")
        writer = seed.app("audit-writer")
        grant = assign(seed, writer.object_id, roles.KEY_VAULT_SECRETS_OFFICER, vault["id"])
        stranger = seed.app("audit-stranger")
        seed.vault("audpol", rbac=False, access_policies=[
            policy(writer.object_id, seed.tenant_id, secrets=["set", "get"])])
        client = _client(cloud, "audkv", writer)
        version = client.set_secret("db-password", SECRET_VALUE).properties.version
        client.get_secret("db-password", version)
        with pytest.raises(ResourceNotFoundError):
            client.get_secret("missing")
        with pytest.raises(HttpResponseError):
            _client(cloud, "audkv", stranger).get_secret("db-password")
        policy_client = _client(cloud, "audpol", writer)
        policy_client.set_secret("s", READER_VALUE)
        with pytest.raises(HttpResponseError):
            list(policy_client.list_properties_of_secrets())
        yield World(cloud, Kvcsi(cloud.home), writer, stranger, grant, version)


def _events(world: World, *argv: str) -> list[dict[str, Any]]:
    result = world.kvcsi("audit", *argv, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_every_request_is_recorded(world: World):
    events = _events(world, "--vault", "audkv")

    assert [(e["operation"], e["httpStatus"], e["result"]) for e in events] == [
        ("setSecret", 401, "unauthenticated"),  # the SDK's challenge request
        ("setSecret", 200, "allowed"),
        ("getSecret", 200, "allowed"),
        ("getSecret", 404, "allowed"),
        ("getSecret", 403, "denied"),  # the SDK reuses the vault's challenge: no second 401
    ]


def test_allowed_event_names_caller_object_and_assignment(world: World):
    event = _events(world, "--vault", "audkv", "--operation", "getSecret",
                    "--result", "allowed")[0]

    assert {key: event[key] for key in (
        "vault", "operation", "httpStatus", "result", "callerObjectId", "callerName",
        "appId", "objectType", "objectName", "objectVersion", "dataAction", "grantedBy",
        "errorCode", "reason")} == {
        "vault": "audkv", "operation": "getSecret", "httpStatus": 200, "result": "allowed",
        "callerObjectId": world.writer.object_id, "callerName": "audit-writer",
        "appId": world.writer.client_id, "objectType": "secret",
        "objectName": "db-password", "objectVersion": world.version,
        "dataAction": GET_SECRET, "grantedBy": world.grant["id"], "errorCode": "",
        "reason": ""}


def test_denied_event_names_the_code_and_reason(world: World):
    [event] = _events(world, "--result", "denied", "--caller", "audit-stranger")

    assert event["callerObjectId"] == world.stranger.object_id
    assert event["errorCode"] == "ForbiddenByRbac"
    assert event["reason"] == f"no role assignment of the caller grants '{GET_SECRET}'"
    assert event["grantedBy"] == ""


def test_access_policy_vault_events(world: World):
    events = _events(world, "--vault", "audpol", "--caller", world.writer.client_id)

    assert [(e["operation"], e["result"], e["grantedBy"], e["errorCode"]) for e in events] == [
        ("setSecret", "allowed", "accessPolicy", ""),
        ("listSecrets", "denied", "", "AccessDenied"),
    ]
    assert events[1]["reason"] == "no access policy of the caller grants secrets list"


def test_since_filter(world: World):
    assert len(_events(world, "--since", "10m")) == 8
    future = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 3600))
    assert _events(world, "--since", future) == []


def test_table_output(world: World):
    result = world.kvcsi("audit", "--vault", "audkv", "--result", "denied")

    assert result.exit_code == 0, result.stderr
    header, rule, row = result.stdout.splitlines()
    assert header.split() == ["Time", "Result", "Status", "Operation", "Vault", "Object",
                              "Caller", "Detail"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert row.split()[1:7] == ["denied", "403", "getSecret", "audkv", "secret/db-password",
                                "audit-stranger"]
    assert row.endswith(f"ForbiddenByRbac: no role assignment of the caller grants "
                        f"'{GET_SECRET}'")


def test_bad_arguments(world: World):
    result = world.kvcsi("audit", "--since", "yesterday")

    assert result.exit_code == 2
    assert "invalid --since 'yesterday': use a duration such as 10m, 2h, 1d or an ISO time" \
        in result.stderr


def test_no_secret_value_or_token_is_recorded(world: World):
    recorded = json.dumps(AuditLog(world.cloud.store).query())
    printed = world.kvcsi("audit").stdout + world.kvcsi("audit", "-o", "json").stdout

    for text in (recorded, printed):
        assert SECRET_VALUE not in text
        assert READER_VALUE not in text
        assert "eyJ" not in text  # no JWT
        assert world.writer.client_secret not in text


def test_audit_endpoint_needs_management_rights(world: World):
    cloud = world.cloud
    token = ClientSecretCredential(
        world.stranger.tenant_id, world.stranger.client_id, world.stranger.client_secret,
        authority=cloud.authority, disable_instance_discovery=True,
        connection_verify=cloud.ca_bundle).get_token(
        cloud.endpoints["resource_manager"] + ".default").token
    url = cloud.endpoints["resource_manager"] + "providers/kvcsi/auditEvents"

    with httpx.Client(verify=ssl.create_default_context(cafile=cloud.ca_bundle)) as http:
        denied = http.get(url, headers={"Authorization": f"Bearer {token}"})
        anonymous = http.get(url)

    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "AuthorizationFailed"
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "AuthenticationFailed"


# --- the log itself --------------------------------------------------------------------------

def _event(number: int, vault: str = "kv") -> AuditEvent:
    return AuditEvent(time=now_text(1_700_000_000 + number), vault=vault,
                      operation="getSecret", httpStatus=200, result="allowed",
                      objectName=f"s{number}")


def test_the_log_is_a_bounded_ring(tmp_path):
    from kvcsi.cloud.store import CloudStore

    log = AuditLog(CloudStore(tmp_path / "state.db"), capacity=3)
    for number in range(5):
        log.append(_event(number, vault="kv" if number % 2 else "other"))

    assert [e["objectName"] for e in log.query()] == ["s2", "s3", "s4"]
    assert [e["objectName"] for e in log.query(AuditQuery(vault="KV"))] == ["s3"]
    assert [e["objectName"] for e in log.query(AuditQuery(limit=2))] == ["s3", "s4"]
    assert len(log.store.scan("audit-event")) == 3


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/secrets", RequestedOperation("listSecrets", "secret")),
    ("GET", "/secrets/db/", RequestedOperation("getSecret", "secret", "db")),
    ("GET", "/secrets/db/abc123", RequestedOperation("getSecret", "secret", "db", "abc123")),
    ("PUT", "/secrets/db", RequestedOperation("setSecret", "secret", "db")),
    ("PATCH", "/secrets/db/abc", RequestedOperation("updateSecret", "secret", "db", "abc")),
    ("GET", "/secrets/db/versions", RequestedOperation("listSecretVersions", "secret", "db")),
    ("POST", "/secrets/db/backup", RequestedOperation("backupSecret", "secret", "db")),
    ("POST", "/secrets/restore", RequestedOperation("restoreSecret", "secret")),
    ("DELETE", "/deletedsecrets/db", RequestedOperation("purgeSecret", "secret", "db")),
    ("POST", "/deletedsecrets/db/recover", RequestedOperation("recoverSecret", "secret", "db")),
    ("POST", "/keys/k/create", RequestedOperation("createKey", "key", "k")),
    ("PUT", "/keys/k", RequestedOperation("importKey", "key", "k")),
    ("POST", "/keys/k/v1/sign", RequestedOperation("sign", "key", "k", "v1")),
    ("POST", "/keys/k/v1/unwrapkey", RequestedOperation("unwrapKey", "key", "k", "v1")),
    ("GET", "/keys/k/rotationpolicy", RequestedOperation("getKeyRotationPolicy", "key", "k")),
    ("GET", "/certificates/c/policy",
     RequestedOperation("getCertificatePolicy", "certificate", "c")),
    ("POST", "/certificates/c/import",
     RequestedOperation("importCertificate", "certificate", "c")),
    ("GET", "/certificates/issuers/p",
     RequestedOperation("getCertificateIssuer", "certificate", "p")),
    ("GET", "/healthstatus", RequestedOperation("unknown")),
])
def test_requests_are_classified(method, path, expected):
    assert classify(method, path) == expected


def test_events_are_inferred_from_the_answer_without_an_authorizer_report(world: World):
    from kvcsi.cloud.audit.recorder import AuditRecorder, _Response

    cloud = world.cloud
    token = ClientSecretCredential(
        world.writer.tenant_id, world.writer.client_id, world.writer.client_secret,
        authority=cloud.authority, disable_instance_discovery=True,
        connection_verify=cloud.ca_bundle).get_token(cloud.keyvault_scope).token
    recorder = AuditRecorder(cloud.store, cloud.endpoints["keyvault_dns_suffix"])
    scope = {"type": "http", "method": "GET", "path": "/secrets/gone",
             "headers": [(b"host", f"audkv.{cloud.endpoints['keyvault_dns_suffix']}".encode()),
                         (b"authorization", f"Bearer {token}".encode())]}
    missing = _Response()
    missing.observe({"type": "http.response.start", "status": 404, "headers": []})
    missing.observe({"type": "http.response.body",
                     "body": b'{"error":{"code":"SecretNotFound","message":"gone"}}'})
    denied = _Response()
    denied.observe({"type": "http.response.start", "status": 403, "headers": []})
    denied.observe({"type": "http.response.body", "body": json.dumps({"error": {
        "code": "Forbidden", "message": "m", "innererror": {"code": "ForbiddenByRbac"}}}).encode()})

    allowed_event = recorder.event(scope, missing, now_text())
    denied_event = recorder.event(scope, denied, now_text())

    assert (allowed_event.result, allowed_event.grantedBy, allowed_event.callerName,
            allowed_event.errorCode) == ("allowed", world.grant["id"], "audit-writer",
                                         "SecretNotFound")
    assert (denied_event.result, denied_event.errorCode, denied_event.reason) == (
        "denied", "ForbiddenByRbac", f"no role assignment of the caller grants '{GET_SECRET}'")
