"""The mount core with a fake Key Vault: files, modes, versions and error texts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kvcsi.provider.auth import KIND_MANAGED_IDENTITY, NO_IDENTITY_HINT
from kvcsi.provider.errors import MountError
from kvcsi.provider.mount import (
    MountedFile,
    MountResult,
    ObjectVersion,
    ProviderSettings,
    decode_base64,
    decode_hex,
    mount,
)

Attributes = Callable[..., str]

TWO_OBJECTS = """
array:
  - |
    objectName: db-password
    objectType: secret
  - |
    objectName: api-key
    objectType: secret
    objectAlias: conf/api.key
    objectVersion: v1
    filePermission: "0600"
"""


def mount_error(*args: str, gateway: Any, **kwargs: Any) -> str:
    with pytest.raises(MountError) as caught:
        mount(*args, gateway=gateway, **kwargs)
    return str(caught.value)


def test_one_secret_exact_bytes_mode_and_version(attributes: Attributes, fake_vault: Any) -> None:
    result = mount(attributes(), "null", "420", gateway=fake_vault)
    assert result == MountResult(
        files=[MountedFile("db-password", 0o644, b"s3cr3t!")],
        object_versions=[ObjectVersion("secret/db-password", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")])
    vault_url, auth, name, version = fake_vault.calls[0]
    assert (vault_url, name, version) == ("https://kvname.vault.azure.net/", "db-password", "")
    assert (auth.kind, auth.client_id) == (KIND_MANAGED_IDENTITY,
                                           "11111111-2222-3333-4444-555555555555")


def test_alias_version_and_file_permission(attributes: Attributes, fake_vault: Any) -> None:
    fake_vault.secrets["api-key"] = [("v1", "first\n"), ("v2", "second")]
    result = mount(attributes(objects=TWO_OBJECTS), "null", "420", gateway=fake_vault)
    assert result.files == [("db-password", 420, b"s3cr3t!"),
                            ("conf/api.key", 0o600, b"first\n")]
    assert result.object_versions == [("secret/db-password", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
                                      ("secret/api-key", "v1")]


def test_unicode_value_is_utf8(attributes: Attributes, fake_vault: Any) -> None:
    fake_vault.secrets["db-password"] = [("v9", "päss ✓")]
    assert mount(attributes(), gateway=fake_vault).files[0].contents == "päss ✓".encode()


@pytest.mark.parametrize(("encoding", "stored", "written"), [
    ("base64", "aGVsbG8=", b"hello"),
    ("BASE64", "AAEC/w==", b"\x00\x01\x02\xff"),
    ("hex", "00ff10", b"\x00\xff\x10"),
    ("utf-8", "plain", b"plain"),
])
def test_object_encoding(attributes: Attributes, fake_vault: Any, encoding: str, stored: str,
                         written: bytes) -> None:
    fake_vault.secrets["db-password"] = [("v1", stored)]
    objects = ("array:\n  - |\n    objectName: db-password\n    objectType: secret\n"
               f"    objectEncoding: {encoding}\n")
    assert mount(attributes(objects=objects), gateway=fake_vault).files[0].contents == written


def test_decode_errors_are_not_prefixed(attributes: Attributes, fake_vault: Any) -> None:
    fake_vault.secrets["db-password"] = [("v1", "abc!")]
    objects = ("array:\n  - |\n    objectName: db-password\n    objectType: secret\n"
               "    objectEncoding: base64\n")
    assert mount_error(attributes(objects=objects), gateway=fake_vault) == \
        "illegal base64 data at input byte 3"


def test_go_decoders() -> None:
    with pytest.raises(ValueError, match="^encoding/hex: odd length hex string$"):
        decode_hex("abc")
    with pytest.raises(ValueError, match="^encoding/hex: invalid byte: U\\+0067 'g'$"):
        decode_hex("0g")
    assert decode_base64("aGVs\nbG8=") == b"hello"


def test_empty_objects_succeed_without_vault_call(attributes: Attributes,
                                                  fake_vault: Any) -> None:
    result = mount(attributes(objects="array:\n", keyvaultName="x"), gateway=fake_vault)
    assert result == MountResult(files=[], object_versions=[])
    assert fake_vault.calls == []


def test_all_or_nothing_on_fetch_error(attributes: Attributes, fake_vault: Any) -> None:
    fake_vault.errors["api-key"] = "GET https://kvname.vault.azure.net/secrets/api-key/\n" \
                                   "RESPONSE 403: 403 Forbidden"
    message = mount_error(attributes(objects=TWO_OBJECTS), gateway=fake_vault)
    assert message == ("failed to get objectType:secret, objectName:api-key, objectVersion:v1: "
                       "GET https://kvname.vault.azure.net/secrets/api-key/\n"
                       "RESPONSE 403: 403 Forbidden")


@pytest.mark.parametrize(("args", "message"), [
    (("", "null", "420"), "failed to unmarshal attributes, error: unexpected end of JSON input"),
    (("{\"a\": 1}", "null", "420"), "failed to unmarshal attributes, error: json: cannot "
                                    "unmarshal number into Go value of type string"),
    (("{}", "[]", "420"), "failed to unmarshal secrets, error: json: cannot unmarshal array "
                          "into Go value of type map[string]string"),
    (("{}", "null", ""), "failed to unmarshal file permission, error: unexpected end of JSON "
                         "input"),
    (("{}", "null", "-1"), "failed to unmarshal file permission, error: json: cannot "
                           "unmarshal -1 into Go value of type fs.FileMode"),
    (("null", "null", "420"), "pod name is not provided"),
])
def test_request_decode_errors(args: tuple[str, str, str], message: str,
                               fake_vault: Any) -> None:
    assert mount_error(*args, gateway=fake_vault) == message


def test_order_auth_before_objects_before_vault_name(attributes: Attributes,
                                                     fake_vault: Any) -> None:
    assert mount_error(attributes(useVMManagedIdentity=None, objects=""),
                       gateway=fake_vault) == (
        "failed to build auth config for mode None: failed to get credentials, "
        "nodePublishSecretRef secret is not set" + NO_IDENTITY_HINT)
    assert mount_error(attributes(objects="", keyvaultName="x"), gateway=fake_vault) == \
        "objects is not set"
    assert mount_error(attributes(keyvaultName="x"), gateway=fake_vault) == \
        'failed to get vault: Invalid vault name: "x", must be between 3 and 24 chars'


def test_default_cloud_comes_from_settings(attributes: Attributes, fake_vault: Any) -> None:
    mount(attributes(), gateway=fake_vault,
          settings=ProviderSettings(default_cloud="AzureChinaCloud"))
    assert fake_vault.calls[0][0] == "https://kvname.vault.azure.cn/"


@pytest.mark.parametrize("object_type", ["kubernetes.io/dockerconfigjson", "secrets"])
def test_invalid_object_type_fails_before_any_vault_call(attributes: Attributes,
                                                         fake_vault: Any,
                                                         object_type: str) -> None:
    objects = f"array:\n  - |\n    objectName: s1\n    objectType: {object_type}\n"
    assert mount_error(attributes(objects=objects), gateway=fake_vault) == (
        f"failed to get objectType:{object_type}, objectName:s1, objectVersion:: "
        "Invalid vaultObjectTypes. Should be secret, key, or cert (objects element 0)")
    assert fake_vault.calls == []


def test_object_type_is_case_insensitive(attributes: Attributes, fake_vault: Any) -> None:
    objects = "array:\n  - |\n    objectName: db-password\n    objectType: Secret\n"
    result = mount(attributes(objects=objects), gateway=fake_vault)
    assert result.object_versions == [("secret/db-password", "0f1e2d3c4b5a69788796a5b4c3d2e1f0")]


def test_certificate_backed_secrets(attributes: Attributes, fake_vault: Any) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    fake_vault.secrets.update({"pem-cert": [("v1", pem)], "pfx-cert": [("v1", "MIIKpfx")],
                               "odd-cert": [("v1", "x")]})
    kid = "https://kvname.vault.azure.net/keys/c/v1"
    fake_vault.content_types.update({"pem-cert": ("application/x-pem-file", kid),
                                     "pfx-cert": ("application/x-pkcs12", kid),
                                     "odd-cert": ("text/plain", kid)})
    objects = ("array:\n  - |\n    objectName: pem-cert\n    objectType: secret\n"
               "  - |\n    objectName: pfx-cert\n    objectType: secret\n"
               "    objectFormat: pfx\n")
    result = mount(attributes(objects=objects), gateway=fake_vault)
    assert [f.contents for f in result.files] == [pem.encode(), b"MIIKpfx"]
    odd = "array:\n  - |\n    objectName: odd-cert\n    objectType: secret\n"
    assert mount_error(attributes(objects=odd), gateway=fake_vault) == (
        "failed to get objectType:secret, objectName:odd-cert, objectVersion:: "
        "failed to get certificate. unknown content type 'text/plain'")


def test_secrets_json_is_passed_to_service_principal(attributes: Attributes,
                                                     fake_vault: Any) -> None:
    secrets = json.dumps({"clientid": "sp", "clientsecret": "pw"})
    mount(attributes(useVMManagedIdentity=None), secrets, "420", gateway=fake_vault)
    assert fake_vault.calls[0][1].client_id == "sp"
