"""Secrets over raw HTTPS: exact status codes, headers and bodies of every operation."""

from __future__ import annotations

import base64
import re

import pytest
from kv_support import error_of

NOT_FOUND_TAIL = ("was not found in this key vault. If you recently deleted this secret you "
                  "may be able to recover it using the correct recovery command. For help "
                  "resolving this issue, please see "
                  "https://go.microsoft.com/fwlink/?linkid=2125182")


def _attributes(created, **extra):
    return {"enabled": True, **extra, "created": created, "updated": created,
            "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}


def test_set_answer_and_headers(kv):
    response = kv.call("PUT", "/secrets/Alpha", json={
        "value": "one", "contentType": "text/plain", "tags": {"team": "a"},
        "attributes": {"enabled": True, "nbf": 1600000000, "exp": 4102444800}},
        headers={"x-ms-client-request-id": "req-123"})
    assert response.status_code == 200
    assert response.headers["x-ms-client-request-id"] == "req-123"
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["x-ms-request-id"])
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["x-ms-keyvault-rbac-assignment-id"] == kv.assignment_id
    assert response.headers["x-ms-keyvault-region"] == "westeurope"
    assert response.headers["cache-control"] == "no-cache"
    bundle = response.json()
    version = bundle["id"].rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{32}", version)
    assert bundle == {
        "value": "one", "id": f"{kv.url}/secrets/Alpha/{version}", "contentType": "text/plain",
        "attributes": _attributes(bundle["attributes"]["created"], nbf=1600000000,
                                  exp=4102444800),
        "tags": {"team": "a"}}


def test_get_latest_with_and_without_slash_and_by_version(kv):
    first = kv.call("PUT", "/secrets/alpha", json={"value": "one"}).json()
    second = kv.call("PUT", "/secrets/ALPHA", json={"value": "two"}).json()
    assert first["id"].startswith(f"{kv.url}/secrets/alpha/")
    for path in ("/secrets/alpha", "/secrets/Alpha/"):
        latest = kv.call("GET", path)
        assert latest.status_code == 200
        assert (latest.json()["value"], latest.json()["id"]) == ("two", second["id"])
    version = first["id"].rsplit("/", 1)[1]
    assert kv.call("GET", f"/secrets/alpha/{version}").json()["value"] == "one"
    assert kv.call("GET", f"/secrets/alpha/{version.upper()}").json()["value"] == "one"


def test_update_answers_without_value(kv):
    created = kv.call("PUT", "/secrets/upd", json={"value": "v", "contentType": "a"}).json()
    response = kv.call("PATCH", "/secrets/upd/", json={
        "contentType": "b", "tags": {"k": "v"}, "attributes": {"exp": 4102444800}})
    assert response.status_code == 200
    body = response.json()
    assert "value" not in body
    assert body["id"] == created["id"]
    assert (body["contentType"], body["tags"], body["attributes"]["exp"]) == (
        "b", {"k": "v"}, 4102444800)
    version = created["id"].rsplit("/", 1)[1]
    again = kv.call("PATCH", f"/secrets/upd/{version}", json={"attributes": {"enabled": False}})
    assert again.json()["attributes"]["enabled"] is False
    assert error_of(kv.call("PATCH", "/secrets/upd/" + "0" * 32, json={}))[0] == 404


def test_list_and_versions_paging(kv):
    for name in ("c", "a", "B"):
        assert kv.call("PUT", f"/secrets/{name}", json={"value": name}).status_code == 200
    first = kv.call("GET", "/secrets", params={"maxresults": "2"}).json()
    assert [item["id"] for item in first["value"]] == [f"{kv.url}/secrets/a",
                                                       f"{kv.url}/secrets/B"]
    assert all("value" not in item for item in first["value"])
    assert re.fullmatch(re.escape(f"{kv.url}/secrets?api-version=7.6&$skiptoken=") +
                        r"[A-Za-z0-9_-]+&maxresults=2", first["nextLink"])
    second = kv.follow(first["nextLink"])
    assert second == {"value": [{"id": f"{kv.url}/secrets/c",
                                 "attributes": second["value"][0]["attributes"]}],
                      "nextLink": None}
    for bad in ("0", "26", "x", "-1"):
        status, body = error_of(kv.call("GET", "/secrets", params={"maxresults": bad}))
        assert status == 400 and body["error"]["code"] == "BadParameter", bad
    for index in range(3):
        kv.call("PUT", "/secrets/multi", json={"value": str(index)})
    page = kv.call("GET", "/secrets/multi/versions", params={"maxresults": "2"}).json()
    assert len(page["value"]) == 2
    assert all(re.fullmatch(re.escape(f"{kv.url}/secrets/multi/") + "[0-9a-f]{32}", item["id"])
               for item in page["value"])
    rest = kv.follow(page["nextLink"])
    assert (len(rest["value"]), rest["nextLink"]) == (1, None)


def test_soft_delete_cycle_bodies(kv):
    kv.call("PUT", "/secrets/doomed", json={"value": "v", "tags": {"a": "b"}})
    deleted = kv.call("DELETE", "/secrets/doomed")
    assert deleted.status_code == 200
    body = deleted.json()
    assert "value" not in body
    assert body["recoveryId"] == f"{kv.url}/deletedsecrets/doomed"
    assert body["scheduledPurgeDate"] - body["deletedDate"] == 90 * 86400
    assert body["tags"] == {"a": "b"}
    assert kv.call("GET", "/deletedsecrets/doomed").json() == body
    listed = kv.call("GET", "/deletedsecrets").json()
    assert [item["recoveryId"] for item in listed["value"]] == [body["recoveryId"]]
    assert listed["value"][0]["id"] == f"{kv.url}/secrets/doomed"
    assert kv.call("GET", "/secrets").json() == {"value": [], "nextLink": None}
    assert error_of(kv.call("GET", "/secrets/doomed"))[0] == 404
    assert error_of(kv.call("PUT", "/secrets/DOOMED", json={"value": "x"})) == (409, {"error": {
        "code": "Conflict",
        "message": "Secret doomed is currently in a deleted but recoverable state, and its name "
                   "cannot be reused; in this state, the secret can only be recovered or purged.",
        "innererror": {"code": "ObjectIsDeletedButRecoverable"}}})
    recovered = kv.call("POST", "/deletedsecrets/doomed/recover")
    assert recovered.status_code == 200 and "value" not in recovered.json()
    assert kv.call("GET", "/secrets/doomed").json()["value"] == "v"
    kv.call("DELETE", "/secrets/doomed")
    purged = kv.call("DELETE", "/deletedsecrets/doomed")
    assert (purged.status_code, purged.content) == (204, b"")
    assert error_of(kv.call("GET", "/deletedsecrets/doomed")) == (404, {"error": {
        "code": "SecretNotFound", "message": "Deleted Secret not found: doomed"}})
    assert error_of(kv.call("DELETE", "/deletedsecrets/doomed"))[0] == 404
    assert error_of(kv.call("DELETE", "/secrets/doomed")) == (404, {"error": {
        "code": "SecretNotFound", "message": f"A secret with (name/id) doomed {NOT_FOUND_TAIL}"}})


def test_backup_blob_is_opaque_and_checked(kv):
    kv.call("PUT", "/secrets/bk", json={"value": "very-secret-value"})
    blob = kv.call("POST", "/secrets/bk/backup").json()["value"]
    raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
    assert raw.startswith(b"KVCSI-BACKUP\x01") and b"very-secret-value" not in raw
    assert re.fullmatch(r"[A-Za-z0-9_-]+", blob)
    assert error_of(kv.call("POST", "/secrets/restore", json={"value": blob})) == (409, {
        "error": {"code": "Conflict",
                  "message": "There was a conflict restoring the secret 'bk': an object with "
                             "this name already exists in the vault, live or deleted."}})
    tampered = blob[:-6] + ("AAAAAA" if not blob.endswith("AAAAAA") else "BBBBBB")
    for bad in (tampered, "bm90IGEgYmxvYg", ""):
        status, body = error_of(kv.call("POST", "/secrets/restore", json={"value": bad}))
        assert (status, body["error"]["code"]) == (400, "BadParameter"), bad
    kv.call("DELETE", "/secrets/bk")
    kv.call("DELETE", "/deletedsecrets/bk")
    restored = kv.call("POST", "/secrets/restore", json={"value": blob})
    assert restored.status_code == 200 and "value" not in restored.json()
    assert kv.call("GET", "/secrets/bk").json()["value"] == "very-secret-value"


@pytest.mark.parametrize("name", ["a" * 128, "bad_name", "dot.name"])
def test_name_rules(kv, name):
    status, body = error_of(kv.call("PUT", f"/secrets/{name}", json={"value": "x"}))
    assert status == 400
    assert body["error"] == {
        "code": "BadParameter",
        "message": f"Secret name '{name}' is invalid. A secret name must be 1-127 characters "
                   "long and contain only 0-9, a-z, A-Z and -."}


def test_value_limits(kv):
    assert kv.call("PUT", "/secrets/big", json={"value": "x" * 25600}).status_code == 200
    assert kv.call("PUT", "/secrets/" + "a" * 127, json={"value": "x"}).status_code == 200
    assert error_of(kv.call("PUT", "/secrets/big", json={"value": "x" * 25601})) == (400, {
        "error": {"code": "BadParameter", "message": "Secret is beyond the maximum permitted "
                                                     "length of 25600 characters"}})
    assert error_of(kv.call("PUT", "/secrets/x", json={"contentType": "a"}))[1]["error"][
        "code"] == "BadParameter"
    assert error_of(kv.call("PUT", "/secrets/x", json={"value": "v", "tags": {
        str(i): "v" for i in range(16)}}))[0] == 400


def test_disabled_version_is_forbidden_expired_is_not(kv):
    kv.call("PUT", "/secrets/off", json={"value": "x", "attributes": {"enabled": False}})
    assert error_of(kv.call("GET", "/secrets/off")) == (403, {"error": {
        "code": "Forbidden", "message": "Operation get is not allowed on a disabled secret.",
        "innererror": {"code": "SecretDisabled"}}})
    kv.call("PUT", "/secrets/old", json={"value": "o", "attributes": {"exp": 1000}})
    kv.call("PUT", "/secrets/later", json={"value": "l", "attributes": {"nbf": 4102444800}})
    assert kv.call("GET", "/secrets/old").json()["value"] == "o"
    assert kv.call("GET", "/secrets/later").json()["value"] == "l"


def test_missing_secret_texts(kv):
    assert error_of(kv.call("GET", "/secrets/ghost")) == (404, {"error": {
        "code": "SecretNotFound", "message": f"A secret with (name/id) ghost {NOT_FOUND_TAIL}"}})
    version = "0" * 32
    assert error_of(kv.call("GET", f"/secrets/ghost/{version}"))[1]["error"]["message"] == (
        f"A secret with (name/id) ghost/{version} {NOT_FOUND_TAIL}")


def test_bad_skip_tokens(kv):
    kv.call("PUT", "/secrets/tok", json={"value": "v"})
    for path in ("/secrets", "/secrets/tok/versions", "/deletedsecrets"):
        assert error_of(kv.call("GET", path, params={"$skiptoken": "!!!"})) == (400, {"error": {
            "code": "BadParameter", "message": "The $skiptoken is invalid."}}), path
    assert error_of(kv.call("GET", "/secrets/tok/versions", params={
        "$skiptoken": "YWJj"}))[0] == 400


def test_values_and_private_keys_are_encrypted_at_rest(kv):
    kv.call("PUT", "/secrets/at-rest", json={"value": "plain-text-marker-12345"})
    kv.call("POST", "/keys/at-rest/create", json={"kty": "EC"})
    secret = kv.cloud.store.get("kv-secret", f"{kv.name.lower()}/at-rest")["current"]
    key = kv.cloud.store.get("kv-key", f"{kv.name.lower()}/at-rest")["current"]
    assert secret["value"].startswith("gAAAAA")  # a Fernet token
    assert key["private"].startswith("gAAAAA")
    assert set(key["public"]) == {"crv", "x", "y"}
    database = (kv.cloud.home / "cloud" / "state.db").read_bytes() + (
        kv.cloud.home / "cloud" / "state.db-wal").read_bytes()
    assert b"plain-text-marker-12345" not in database
    assert b"PRIVATE KEY" not in database
