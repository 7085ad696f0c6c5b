"""Certificates over raw HTTPS: exact status codes, headers and bodies, RBAC data actions and
access-policy permissions, managed backing objects and ``outContentType``."""

from __future__ import annotations

import base64
import hashlib

import requests
from kv_certificate_support import CertificateVault, vault_name_for

POLICY = {"x509_props": {"subject": "CN=raw.example.com"}, "issuer": {"name": "Self"},
          "key_props": {"kty": "EC"}}


def _create(vault: CertificateVault, name: str, policy: dict | None = None,
            **extra) -> requests.Response:
    return vault.call("POST", f"/certificates/{name}/create",
                      json={"policy": policy or POLICY, **extra})


def test_create_answers_202_with_location_and_the_pending_operation_completes(cert_vault):
    response = _create(cert_vault, "raw")

    assert response.status_code == 202
    body = response.json()
    assert sorted(body) == ["cancellation_requested", "csr", "id", "issuer",
                            "preserveCertOrder", "request_id", "status", "status_details"]
    assert body["id"] == f"{cert_vault.url}/certificates/raw/pending"
    assert body["issuer"] == {"name": "Self"}
    assert body["status"] == "inProgress" and body["cancellation_requested"] is False
    assert response.headers["Location"] == (
        f"{cert_vault.url}/certificates/raw/pending?api-version=7.6"
        f"&request_id={body['request_id']}")
    assert response.headers["Retry-After"] == "0"

    pending = requests.get(response.headers["Location"], verify=cert_vault.cloud.ca_bundle,
                           headers={"Authorization": f"Bearer {cert_vault.token()}"}, timeout=10)
    assert pending.status_code == 200
    assert pending.json()["status"] == "completed"
    assert pending.json()["status_details"] == ""
    assert pending.json()["target"] == f"{cert_vault.url}/certificates/raw"
    assert pending.json()["csr"] == body["csr"]


def test_certificate_bundle_shape(cert_vault):
    _create(cert_vault, "Shape", tags={"t": "1"})

    latest = cert_vault.call("GET", "/certificates/shape/")
    assert latest.status_code == 200
    bundle = latest.json()
    version = bundle["id"].rsplit("/", 1)[1]
    assert sorted(bundle) == ["attributes", "cer", "id", "kid", "policy", "preserveCertOrder",
                              "sid", "tags", "x5t"]
    assert bundle["id"] == f"{cert_vault.url}/certificates/Shape/{version}"
    assert bundle["kid"] == f"{cert_vault.url}/keys/Shape/{version}"
    assert bundle["sid"] == f"{cert_vault.url}/secrets/Shape/{version}"
    der = base64.b64decode(bundle["cer"], validate=True)
    assert bundle["x5t"] == base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip(
        "=")
    assert sorted(bundle["attributes"]) == ["created", "enabled", "exp", "nbf",
                                            "recoverableDays", "recoveryLevel", "updated"]
    assert bundle["attributes"]["recoveryLevel"] == "Recoverable+Purgeable"
    assert bundle["policy"]["id"] == f"{cert_vault.url}/certificates/Shape/policy"
    assert bundle["policy"]["issuer"] == {"name": "Self"}
    assert bundle["tags"] == {"t": "1"} and bundle["preserveCertOrder"] is False
    assert cert_vault.call("GET", "/certificates/SHAPE").json() == bundle
    assert cert_vault.call("GET", f"/certificates/shape/{version}").json() == bundle


def test_not_found_bodies(cert_vault):
    help_text = ("If you recently deleted this certificate you may be able to recover it using "
                 "the correct recovery command. For help resolving this issue, please see "
                 "https://go.microsoft.com/fwlink/?linkid=2125182")
    missing = cert_vault.call("GET", "/certificates/nope/")
    assert (missing.status_code, missing.json()) == (404, {"error": {
        "code": "CertificateNotFound",
        "message": "A certificate with (name/id) nope was not found in this key vault. "
                   + help_text}})
    _create(cert_vault, "there")
    wrong_version = cert_vault.call("GET", "/certificates/there/" + "0" * 32)
    assert wrong_version.json()["error"]["message"].startswith(
        f"A certificate with (name/id) there/{'0' * 32} was not found")
    deleted = cert_vault.call("GET", "/deletedcertificates/nope")
    assert (deleted.status_code, deleted.json()) == (404, {"error": {
        "code": "CertificateNotFound", "message": "Deleted Certificate not found: nope"}})


def test_delete_answers_the_deleted_bundle_and_purge_204(cert_vault):
    _create(cert_vault, "gone")

    deleted = cert_vault.call("DELETE", "/certificates/gone")
    assert deleted.status_code == 200
    body = deleted.json()
    assert body["recoveryId"] == f"{cert_vault.url}/deletedcertificates/gone"
    assert body["scheduledPurgeDate"] - body["deletedDate"] == 90 * 86400
    listed = cert_vault.call("GET", "/deletedcertificates").json()
    assert [item["recoveryId"] for item in listed["value"]] == [body["recoveryId"]]
    assert listed["nextLink"] is None
    assert cert_vault.call("GET", "/secrets/gone/").status_code == 404

    purged = cert_vault.call("DELETE", "/deletedcertificates/gone")
    assert (purged.status_code, purged.content) == (204, b"")
    assert cert_vault.call("GET", "/deletedsecrets/gone").status_code == 404
    assert cert_vault.call("GET", "/deletedkeys/gone").status_code == 404


def test_list_pages_with_next_link(cert_vault):
    for name in ("c-1", "c-2", "c-3"):
        _create(cert_vault, name)

    first = cert_vault.call("GET", "/certificates", params={"maxresults": "2"}).json()
    assert [item["id"].rsplit("/", 1)[1] for item in first["value"]] == ["c-1", "c-2"]
    assert sorted(first["value"][0]) == ["attributes", "id", "x5t"]
    second = requests.get(first["nextLink"], verify=cert_vault.cloud.ca_bundle, timeout=10,
                          headers={"Authorization": f"Bearer {cert_vault.token()}"}).json()
    assert [item["id"].rsplit("/", 1)[1] for item in second["value"]] == ["c-3"]
    assert second["nextLink"] is None


def test_invalid_requests_are_bad_parameters(cert_vault):
    no_subject = _create(cert_vault, "bad", {"x509_props": {}})
    assert (no_subject.status_code, no_subject.json()) == (400, {"error": {
        "code": "BadParameter",
        "message": "Either subject or at least one subject alternative name is required in "
                   "the certificate policy."}})
    bad_name = _create(cert_vault, "bad_name")
    assert bad_name.json()["error"]["message"] == (
        "Certificate name 'bad_name' is invalid. A certificate name must be 1-127 characters "
        "long and contain only 0-9, a-z, A-Z and -.")
    issuer = _create(cert_vault, "issuer", {**POLICY, "issuer": {"name": "DigiCert"}})
    assert issuer.status_code == 400
    garbage = cert_vault.call("POST", "/certificates/restore", json={"value": "AAAA"})
    assert garbage.json() == {"error": {"code": "BadParameter",
                                        "message": "Backup blob contains invalid or corrupt "
                                                   "data."}}


def test_managed_backing_objects_refuse_direct_writes(cert_vault):
    _create(cert_vault, "managed")
    message = ('Operation "{}" is not allowed as this object\'s lifetime is managed by Key '
               "Vault.")

    set_secret = cert_vault.call("PUT", "/secrets/managed", json={"value": "x"})
    delete_key = cert_vault.call("DELETE", "/keys/managed")

    assert (set_secret.status_code, set_secret.json()) == (403, {"error": {
        "code": "Forbidden", "message": message.format("set"),
        "innererror": {"code": "SecretManagedByKeyVault"}}})
    assert (delete_key.status_code, delete_key.json()) == (403, {"error": {
        "code": "Forbidden", "message": message.format("delete"),
        "innererror": {"code": "KeyManagedByKeyVault"}}})
    secret = cert_vault.call("GET", "/secrets/managed/").json()
    assert secret["managed"] is True and secret["contentType"] == "application/x-pkcs12"
    assert secret["kid"] == secret["id"].replace("/secrets/", "/keys/")
    key = cert_vault.call("GET", "/keys/managed/").json()
    assert key["managed"] is True and "d" not in key["key"]


def test_out_content_type_needs_a_2025_api_version(cert_vault):
    _create(cert_vault, "convert")
    params = {"outContentType": "application/x-pem-file"}

    old = cert_vault.call("GET", "/secrets/convert/", params=params, api_version="7.6").json()
    new = cert_vault.call("GET", "/secrets/convert/", params=params,
                          api_version="2025-07-01").json()
    bad = cert_vault.call("GET", "/secrets/convert/", api_version="2025-07-01",
                          params={"outContentType": "text/plain"})

    assert old["contentType"] == "application/x-pkcs12"
    assert new["contentType"] == "application/x-pem-file"
    assert new["value"].startswith("-----BEGIN PRIVATE KEY-----\n")
    assert new["value"].count("-----BEGIN CERTIFICATE-----") == 1
    assert bad.status_code == 400 and bad.json()["error"]["message"] == (
        "The specified outContentType (text/plain) is not supported. Supported values: "
        "application/x-pkcs12, application/x-pem-file.")


def test_rbac_data_actions_per_operation(cert_vault):
    cloud, rbac = cert_vault.cloud, cert_vault.rbac
    reader = cloud.seed.app("certificate-reader")
    rbac.grant(reader.object_id, "Microsoft.KeyVault/vaults/certificates/read",
               cert_vault.vault["id"])
    _create(cert_vault, "guarded")
    token = cert_vault.token(reader)

    assert cert_vault.call("GET", "/certificates/guarded/", token=token).status_code == 200
    assert cert_vault.call("GET", "/certificates", token=token).status_code == 200
    denied = cert_vault.call("POST", "/certificates/guarded/create", token=token,
                             json={"policy": POLICY})
    secret = cert_vault.call("GET", "/secrets/guarded/", token=token)

    assert denied.status_code == 403
    assert denied.json()["error"]["innererror"] == {"code": "ForbiddenByRbac"}
    message = denied.json()["error"]["message"]
    assert "Action: 'Microsoft.KeyVault/vaults/certificates/create/action'\r\n" in message
    assert (f"Resource: '{cert_vault.vault['id'].lower()}/certificates/guarded'\r\n"
            in message)
    assert secret.status_code == 403
    assert ("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"
            in secret.json()["error"]["message"])
    checked = {(action, resource.rsplit("/", 2)[-2]) for _, action, resource in rbac.calls}
    assert ("Microsoft.KeyVault/vaults/certificates/create/action", "certificates") in checked


def test_access_policy_certificate_permissions(shared_local_cloud, request):
    cloud = shared_local_cloud
    app = cloud.seed.app("policy-reader")
    vault = cloud.seed.vault(vault_name_for(request), rbac=False, access_policies=[{
        "tenantId": cloud.tenant_id, "objectId": app.object_id,
        "permissions": {"certificates": ["get", "list", "import"], "secrets": []}}])
    kv = CertificateVault(cloud, vault, app, None)
    token = kv.token()

    imported = kv.call("POST", "/certificates/ap/import", token=token, json={
        "value": _self_signed_pem(), "policy": {"secret_props": {
            "contentType": "application/x-pem-file"}}})
    listed = kv.call("GET", "/certificates", token=token)
    created = kv.call("POST", "/certificates/ap/create", token=token, json={"policy": POLICY})
    secret = kv.call("GET", "/secrets/ap/", token=token)

    assert imported.status_code == 200 and listed.status_code == 200
    caller = f"appid={app.client_id};oid={app.object_id};iss=https://sts.windows.net/" \
             f"{cloud.tenant_id}/"
    assert (created.status_code, created.json()) == (403, {"error": {
        "code": "Forbidden",
        "message": f"The user, group or application '{caller}' does not have certificates "
                   f"create permission on key vault '{vault['name']};location=westeurope'. "
                   "For help resolving this issue, please see "
                   "https://go.microsoft.com/fwlink/?linkid=2125287",
        "innererror": {"code": "AccessDenied"}}})
    assert secret.status_code == 403
    assert "does not have secrets get permission" in secret.json()["error"]["message"]


def _self_signed_pem() -> str:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ap.example.com")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
            + certificate.public_bytes(serialization.Encoding.PEM).decode())


def test_a_plain_secret_name_cannot_back_a_certificate(cert_vault):
    assert cert_vault.call("PUT", "/secrets/taken", json={"value": "plain"}).status_code == 200

    refused = _create(cert_vault, "taken")

    assert (refused.status_code, refused.json()) == (409, {"error": {
        "code": "Conflict",
        "message": "A secret named 'taken' already exists in this vault and is not managed by "
                   "a certificate; a certificate needs its name for its backing secret."}})
    assert cert_vault.call("GET", "/certificates/taken/").status_code == 404
    assert cert_vault.call("GET", "/keys/taken/").status_code == 404
