"""The unmodified azure-keyvault-secrets SecretClient through every secrets operation."""

from __future__ import annotations

import datetime

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient
from kv_support import SECRETS_USER, assign_role

from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.secrets import SecretRepository

UTC = datetime.UTC


def test_set_get_update_list(kv):
    client = kv.secret_client()
    expires = datetime.datetime(2031, 1, 1, tzinfo=UTC)
    not_before = datetime.datetime(2020, 1, 1, tzinfo=UTC)
    first = client.set_secret("db-password", "hunter2", content_type="text/plain",
                              tags={"env": "dev"}, expires_on=expires, not_before=not_before)
    second = client.set_secret("DB-Password", "hunter3")

    assert (first.name, first.value, second.name) == ("db-password", "hunter2", "db-password")
    assert first.properties.content_type == "text/plain"
    assert first.properties.tags == {"env": "dev"}
    assert (first.properties.expires_on, first.properties.not_before) == (expires, not_before)
    assert first.properties.recovery_level == "Recoverable+Purgeable"
    assert first.properties.vault_url == kv.url
    assert client.get_secret("db-password").value == "hunter3"
    assert client.get_secret("DB-PASSWORD", first.properties.version).value == "hunter2"

    updated = client.update_secret_properties("db-password", first.properties.version,
                                              enabled=False, tags={"env": "prod"})
    assert (updated.enabled, updated.tags, updated.version) == (
        False, {"env": "prod"}, first.properties.version)
    with pytest.raises(HttpResponseError) as disabled:
        client.get_secret("db-password", first.properties.version)
    assert disabled.value.status_code == 403
    assert disabled.value.error.code == "Forbidden"
    assert disabled.value.error.message == "Operation get is not allowed on a disabled secret."
    assert disabled.value.error.innererror == {"code": "SecretDisabled"}

    versions = {p.version: p.enabled for p in
                client.list_properties_of_secret_versions("db-password")}
    assert versions == {first.properties.version: False, second.properties.version: True}
    assert [p.name for p in client.list_properties_of_secrets()] == ["db-password"]
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_secret("missing")
    assert missing.value.error.code == "SecretNotFound"


def test_list_pages_through_next_links(kv):
    client = kv.secret_client()
    names = [f"s{index:03d}" for index in range(60)]
    SecretRepository(kv.cloud.store, SecretCipher(kv.cloud.home)).bulk_load(
        kv.name, {name: "v" for name in names})
    pages = list(client.list_properties_of_secrets(max_page_size=25).by_page())
    listed = [[p.name for p in page] for page in pages]
    assert [len(page) for page in listed] == [25, 25, 10]
    assert sum(listed, []) == names


def test_delete_recover_purge(kv):
    client = kv.secret_client()
    client.set_secret("gone", "value")
    deleted = client.begin_delete_secret("gone").result()
    assert deleted.name == "gone"
    assert deleted.recovery_id == f"{kv.url}/deletedsecrets/gone"
    assert deleted.deleted_date is not None and deleted.scheduled_purge_date is not None
    assert deleted.scheduled_purge_date - deleted.deleted_date == datetime.timedelta(days=90)
    assert client.get_deleted_secret("gone").name == "gone"
    assert [s.name for s in client.list_deleted_secrets()] == ["gone"]
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("gone")
    with pytest.raises(ResourceExistsError) as conflict:
        client.set_secret("gone", "again")
    assert conflict.value.status_code == 409
    assert conflict.value.error.innererror == {"code": "ObjectIsDeletedButRecoverable"}
    assert conflict.value.error.message == (
        "Secret gone is currently in a deleted but recoverable state, and its name cannot be "
        "reused; in this state, the secret can only be recovered or purged.")

    recovered = client.begin_recover_deleted_secret("gone").result()
    assert recovered.name == "gone"
    assert client.get_secret("gone").value == "value"

    client.begin_delete_secret("gone").wait()
    assert client.purge_deleted_secret("gone") is None
    with pytest.raises(ResourceNotFoundError) as purged:
        client.get_deleted_secret("gone")
    assert purged.value.error.message == "Deleted Secret not found: gone"
    assert client.set_secret("gone", "fresh").value == "fresh"


FIRST = "first-value-6d1f2a9c7e"
SECOND = "second-value-b83e0c41f5"


def test_backup_restore(kv):
    # Long distinctive values: a short one could appear in the base64 blob by chance.
    client = kv.secret_client()
    one = client.set_secret("keepsake", FIRST)
    two = client.set_secret("keepsake", SECOND, content_type="text/plain")
    blob = client.backup_secret("keepsake")
    assert isinstance(blob, bytes) and SECOND.encode() not in blob  # encrypted inside
    client.begin_delete_secret("keepsake").wait()
    client.purge_deleted_secret("keepsake")

    restored = client.restore_secret_backup(blob)
    assert (restored.name, restored.version, restored.content_type) == (
        "keepsake", two.properties.version, "text/plain")
    assert client.get_secret("keepsake", one.properties.version).value == FIRST
    assert client.get_secret("keepsake").value == SECOND
    with pytest.raises(ResourceExistsError):
        client.restore_secret_backup(blob)


def test_expired_and_not_yet_valid_secrets_are_readable(kv):
    client = kv.secret_client()
    past = datetime.datetime(2001, 1, 1, tzinfo=UTC)
    future = datetime.datetime(2099, 1, 1, tzinfo=UTC)
    client.set_secret("expired", "old", expires_on=past)
    client.set_secret("early", "new", not_before=future)
    assert client.get_secret("expired").value == "old"
    assert client.get_secret("early").value == "new"


def test_reader_without_set_is_forbidden(kv):
    reader = kv.new_app("secrets-user", SECRETS_USER)
    kv.secret_client().set_secret("shared", "v")
    client = kv.secret_client(reader)
    assert client.get_secret("shared").value == "v"
    with pytest.raises(HttpResponseError) as denied:
        client.set_secret("shared", "overwrite")
    assert denied.value.status_code == 403
    assert denied.value.error.code == "Forbidden"
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'" in \
        denied.value.error.message


def test_node_identity_reads_through_imds(kv, monkeypatch):
    """A VM's user-assigned identity (IMDS, ManagedIdentityCredential) with Key Vault Secrets
    User on the vault reads a secret and may not write one."""
    kv.secret_client().set_secret("app-config", "from-the-vault")
    vm = kv.cloud.seed.scale_set_vm(user_assigned=1)
    identity = vm.user_assigned[0]["properties"]
    assign_role(kv.cloud, identity["principalId"], SECRETS_USER, kv.vault["id"])
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)
    client = SecretClient(kv.url, ManagedIdentityCredential(client_id=identity["clientId"]),
                          connection_verify=kv.cloud.ca_bundle)
    assert client.get_secret("app-config").value == "from-the-vault"
    with pytest.raises(HttpResponseError) as denied:
        client.set_secret("app-config", "overwrite")
    assert (denied.value.status_code, denied.value.error.innererror) == (
        403, {"code": "ForbiddenByRbac"})
