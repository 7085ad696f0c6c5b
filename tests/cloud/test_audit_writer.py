"""The audit log's writer: events leave the request path through a queue, are written in
batches, are visible to every query at once (read-your-writes) and survive shutdown; events
built from the authorizer's decision carry the same fields as before, without the token."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.identity import ClientSecretCredential
from support.local_cloud import running_local_cloud

from kvcsi.cloud.audit import writer as audit_writer
from kvcsi.cloud.audit.log import EVENT_KIND, AuditEvent, AuditLog, AuditQuery, now_text
from kvcsi.cloud.audit.recorder import AuditRecorder, _Response
from kvcsi.cloud.audit.writer import AuditWriter, close_writers, flush_pending
from kvcsi.cloud.keyvault.authentication import Caller
from kvcsi.cloud.keyvault.authorization import AuthorizationRecord
from kvcsi.cloud.keyvault.operations import GET_SECRET, LIST_SECRETS
from kvcsi.cloud.store import CloudStore

MOMENT = 1_700_000_000.25
ASSIGNMENT = "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a1"


def _event(number: int) -> AuditEvent:
    return AuditEvent(time=now_text(MOMENT + number), vault="kv", operation="getSecret",
                      httpStatus=200, result="allowed", objectName=f"s{number}")


def _entry(number: int) -> tuple[dict[str, Any], int]:
    return _event(number).document(), int((MOMENT + number) * 1_000_000)


def _stored_names(store: CloudStore) -> list[str]:
    """What is in the database itself (no flush first, unlike ``AuditLog.query``)."""
    return [event["objectName"] for event in
            sorted(store.scan(EVENT_KIND), key=lambda event: event["sequence"])]


@pytest.fixture
def store(tmp_path: Path) -> CloudStore:
    return CloudStore(tmp_path / "state.db")


def _in_loop(work: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(work())  # the writer schedules its batches on the running loop


def test_queued_events_are_seen_by_the_next_query(store: CloudStore):
    writer = AuditWriter(AuditLog(store), _entry, flush_seconds=60)

    async def requests() -> None:
        for number in range(3):
            writer.submit(number)

    _in_loop(requests)

    assert _stored_names(store) == []  # still queued: nothing written on the request path
    # a query through another store object of the same database writes the queue first
    other = AuditLog(CloudStore(store.path))
    assert [e["objectName"] for e in other.query()] == ["s0", "s1", "s2"]
    assert [e["sequence"] for e in other.query()] == [0, 1, 2]
    assert writer.pending() == 0
    writer.close()


def test_the_loop_writes_a_batch_after_the_interval(store: CloudStore):
    writer = AuditWriter(AuditLog(store), _entry, flush_seconds=0.05)
    seen: list[list[str]] = []

    async def requests() -> None:
        writer.submit(0)
        writer.submit(1)
        seen.append(_stored_names(store))
        await asyncio.sleep(0.2)
        seen.append(_stored_names(store))
        writer.submit(2)
        await asyncio.sleep(0.2)
        seen.append(_stored_names(store))

    _in_loop(requests)

    assert seen == [[], ["s0", "s1"], ["s0", "s1", "s2"]]
    writer.close()


def test_a_full_batch_is_written_before_the_interval(store: CloudStore):
    writer = AuditWriter(AuditLog(store), _entry, flush_seconds=60, batch_size=4)
    seen: list[list[str]] = []

    async def requests() -> None:
        for number in range(5):
            writer.submit(number)
        await asyncio.sleep(0)  # one turn of the loop
        seen.append(_stored_names(store))

    _in_loop(requests)

    assert seen == [["s0", "s1", "s2", "s3", "s4"]]
    writer.close()


def test_without_a_loop_or_once_closed_events_are_written_at_once(store: CloudStore):
    writer = AuditWriter(AuditLog(store), _entry, flush_seconds=60)
    writer.submit(0)
    assert _stored_names(store) == ["s0"]

    async def requests() -> None:
        writer.submit(1)

    _in_loop(requests)
    assert _stored_names(store) == ["s0"]
    close_writers(store)  # the server's shutdown

    assert _stored_names(store) == ["s0", "s1"]
    writer.submit(2)
    assert _stored_names(store) == ["s0", "s1", "s2"]


def test_a_snapshot_that_cannot_be_built_costs_only_itself(store: CloudStore):
    def build(number: int) -> tuple[dict[str, Any], int]:
        if number == 1:
            raise ValueError("broken snapshot")
        return _entry(number)

    writer = AuditWriter(AuditLog(store), build, flush_seconds=60)

    async def requests() -> None:
        for number in range(3):
            writer.submit(number)

    _in_loop(requests)
    flush_pending(store)

    assert _stored_names(store) == ["s0", "s2"]
    writer.close()


def test_a_batch_larger_than_the_ring_keeps_the_newest(store: CloudStore):
    audit_log = AuditLog(store, capacity=3)
    audit_log.append_many([_entry(number) for number in range(5)])

    assert [e["objectName"] for e in audit_log.query()] == ["s2", "s3", "s4"]
    assert [e["sequence"] for e in audit_log.query(AuditQuery(limit=1))] == [4]
    assert store.get("audit-cursor", "cursor") == {"next": 5}


# --- events from the authorizer's decision ---------------------------------------------------

def _decision(allowed: bool, operation: Any = GET_SECRET, model: str = "rbac"
              ) -> AuthorizationRecord:
    return AuthorizationRecord(
        vault={"name": "AudKv", "id": "/v"}, caller=Caller("oid-1", "app-1", "iss", "tid"),
        operation=operation, resource_id="/v/secrets/db", allowed=allowed, model=model,
        assignment_id=ASSIGNMENT if allowed and model == "rbac" else None)


def _answer(status: int, body: dict[str, Any] | None = None) -> _Response:
    response = _Response()
    response.observe({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"x-ms-request-id", b"req-1")]})
    response.observe({"type": "http.response.body",
                      "body": json.dumps(body or {}).encode()})
    return response


# no Authorization header at all: the caller can only come from the decision
SCOPE = {"type": "http", "method": "GET", "path": "/secrets/db/v1",
         "headers": [(b"host", b"audkv.vault.localhost:8443")]}


def test_allowed_event_from_the_decision(store: CloudStore):
    store.put("principal", "oid-1", {"id": "oid-1", "displayName": "writer"})
    recorder = AuditRecorder(store, "vault.localhost:8443")

    document, micros = recorder.entry((SCOPE, _answer(404, {"error": {
        "code": "SecretNotFound", "message": "gone"}}), MOMENT, _decision(True)))

    assert micros == 1_700_000_000_250_000
    assert document == {
        "time": "2023-11-14T22:13:20.250Z", "vault": "AudKv", "operation": "getSecret",
        "httpStatus": 404, "result": "allowed", "callerObjectId": "oid-1",
        "callerName": "writer", "appId": "app-1", "objectType": "secret", "objectName": "db",
        "objectVersion": "v1", "dataAction": GET_SECRET.action, "grantedBy": ASSIGNMENT,
        "errorCode": "SecretNotFound", "reason": "", "requestId": "req-1"}
    assert list(document) == list(AuditEvent.__dataclass_fields__)  # same field order


def test_denied_events_from_the_decision(store: CloudStore):
    recorder = AuditRecorder(store, "vault.localhost:8443")
    forbidden = _answer(403, {"error": {"code": "Forbidden", "message": "m",
                                        "innererror": {"code": "ForbiddenByRbac"}}})
    listing = {**SCOPE, "path": "/secrets"}

    rbac, _ = recorder.entry((SCOPE, forbidden, MOMENT, _decision(False)))
    policy, _ = recorder.entry((listing, _answer(403, {"error": {"code": "Forbidden"}}),
                                MOMENT, _decision(False, LIST_SECRETS, "accessPolicy")))

    assert (rbac["result"], rbac["errorCode"], rbac["grantedBy"], rbac["reason"]) == (
        "denied", "ForbiddenByRbac", "",
        "no role assignment of the caller grants "
        "'Microsoft.KeyVault/vaults/secrets/getSecret/action'")
    assert (policy["operation"], policy["errorCode"], policy["reason"]) == (
        "listSecrets", "Forbidden", "no access policy of the caller grants secrets list")


def test_display_names_follow_principal_changes(store: CloudStore):
    recorder = AuditRecorder(store, "vault.localhost:8443")
    snapshot = (SCOPE, _answer(200), MOMENT, _decision(True))

    assert recorder.entry(snapshot)[0]["callerName"] == ""
    store.put("principal", "oid-1", {"id": "oid-1", "displayName": "renamed"})
    assert recorder.entry(snapshot)[0]["callerName"] == "renamed"


# --- the running cloud -----------------------------------------------------------------------

def test_the_audit_endpoint_reads_its_writes_and_shutdown_writes_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(audit_writer, "FLUSH_SECONDS", 3600.0)  # no timer write in the test
    home = tmp_path / "home"
    with running_local_cloud(home) as cloud:
        cloud.seed.vault("shutkv")
        account = json.loads((home / "cloud" / "cli-credential.json").read_text())
        arm_token = ClientSecretCredential(
            account["tenantId"], account["clientId"], account["clientSecret"],
            authority=cloud.authority, disable_instance_discovery=True,
            connection_verify=cloud.ca_bundle).get_token(
            cloud.endpoints["resource_manager"] + ".default").token
        audit_url = cloud.endpoints["resource_manager"] + "providers/kvcsi/auditEvents"
        secret_url = f"{cloud.vault_url('shutkv')}/secrets/s?api-version=7.6"
        with httpx.Client(verify=ssl.create_default_context(cafile=cloud.ca_bundle)) as http:
            assert http.get(secret_url).status_code == 401
            assert cloud.store.scan(EVENT_KIND) == []  # queued, not written on the request
            queried = http.get(audit_url, params={"vault": "shutkv"},
                               headers={"Authorization": f"Bearer {arm_token}"})
            assert http.get(secret_url).status_code == 401  # stays queued until shutdown

    assert queried.status_code == 200
    assert [(e["vault"], e["operation"], e["httpStatus"], e["result"])
            for e in queried.json()["value"]] == [("shutkv", "getSecret", 401, "unauthenticated")]
    stored = CloudStore(home / "cloud" / "state.db").scan(EVENT_KIND)
    assert sorted(event["sequence"] for event in stored) == [0, 1]
