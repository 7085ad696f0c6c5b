"""The ``objects`` parameter: yaml.v3 decoding rules and per-object validation texts."""

from __future__ import annotations

import pytest

from kvcsi.provider.errors import MountError
from kvcsi.provider.objects import KeyVaultObject, parse_objects, validate_objects


def parse_error(text: str) -> str:
    with pytest.raises(MountError) as caught:
        validate_objects(parse_objects(text))
    return str(caught.value)


def test_values_stay_raw_strings_and_are_trimmed() -> None:
    objects = parse_objects(
        "array:\n"
        "  - |\n"
        "    objectName: yes\n"
        "    objectType: secret\n"
        "    objectVersion: 00ab\n"
        "    filePermission: 0755\n"
        "    objectAlias: '  spaced  '\n"
        "  - |\n"
        "    objectName: 123\n"
        "    objectType: secret\n"
        "    objectVersion: ~\n"
        "    objectVersionHistory: 3\n"
        "    unknownKey: ignored\n")
    assert objects == [
        KeyVaultObject(object_name="yes", object_type="secret", object_version="00ab",
                       file_permission="0755", object_alias="spaced"),
        KeyVaultObject(object_name="123", object_type="secret", object_version_history=3),
    ]
    assert objects[0].file_name == "spaced"
    assert objects[1].file_name == "123"
    assert objects[1].uid == "secret/123"


@pytest.mark.parametrize("text", ["array:\n", "array: []\n", "other: 1\n", "# nothing\n"])
def test_empty_or_missing_array_gives_no_objects(text: str) -> None:
    assert parse_objects(text) == []


def test_objects_must_be_set() -> None:
    assert parse_error("  \n ") == "objects is not set"


@pytest.mark.parametrize(("text", "message"), [
    ("array:\n  - objectName: s1\n    objectType: secret\n",
     "failed to yaml unmarshal objects, error: yaml: unmarshal errors:\n"
     "  line 2: cannot unmarshal !!map into string"),
    ("- |\n  objectName: s1\n",
     "failed to yaml unmarshal objects, error: yaml: unmarshal errors:\n"
     "  line 1: cannot unmarshal !!seq into types.StringArray"),
    ("array:\n  - |\n    objectName: a\narray:\n  - |\n    objectName: b\n",
     "failed to yaml unmarshal objects, error: yaml: unmarshal errors:\n"
     '  line 4: mapping key "array" already defined at line 1'),
    ("array:\n  - |\n    objectVersionHistory: \"5\"\n",
     "unmarshal failed for keyVaultObjects at index 0, error: yaml: unmarshal errors:\n"
     "  line 1: cannot unmarshal !!str `5` into int32"),
    ("array:\n  - |\n    objectName: a\n  - plain\n",
     "unmarshal failed for keyVaultObjects at index 1, error: yaml: unmarshal errors:\n"
     "  line 1: cannot unmarshal !!str `plain` into types.KeyVaultObject"),
])
def test_unmarshal_errors(text: str, message: str) -> None:
    assert parse_error(text) == message


def test_syntax_errors_are_reported_with_their_line() -> None:
    message = parse_error("array: [\n")
    assert message.startswith("failed to yaml unmarshal objects, error: yaml: line 2: ")


def one(body: str) -> str:
    indented = "".join(f"    {line}\n" for line in body.strip().splitlines())
    return "array:\n  - |\n" + indented


@pytest.mark.parametrize(("body", "reason"), [
    ("objectname: s1\nobjectType: secret", "file name must not be empty"),
    ("objectName: /etc/passwd\nobjectType: secret", "file name must be a relative path"),
    ("objectName: s1\nobjectAlias: ../escape\nobjectType: secret",
     "file name must not contain '..'"),
    ("objectName: s1\nobjectAlias: a..b\nobjectType: secret", "file name must not contain '..'"),
    ("objectName: s1\nobjectType: secret\nobjectFormat: der",
     "invalid objectFormat: der, should be PEM or PFX"),
    ("objectName: s1\nobjectType: cert\nobjectFormat: pfx",
     "PFX format only supported for objectType: secret"),
    ("objectName: s1\nobjectType: key\nobjectEncoding: base64",
     "objectEncoding only supported for objectType: secret"),
    ("objectName: s1\nobjectType: secret\nobjectEncoding: utf-16",
     "invalid objectEncoding: utf-16, should be hex, base64 or utf-8"),
    ("objectName: s1\nobjectType: secret\nfilePermission: 0900",
     'file permission must be a valid octal number: strconv.ParseInt: parsing "0900": '
     "invalid syntax"),
])
def test_validation_errors_carry_the_object_prefix(body: str, reason: str) -> None:
    obj = parse_objects(one(body))[0]
    assert parse_error(one(body)) == (
        f"failed to get objectType:{obj.object_type}, objectName:{obj.object_name}, "
        f"objectVersion:{obj.object_version}: {reason}")


def test_misspelt_key_shows_empty_fields_in_prefix() -> None:
    assert parse_error(one("objectname: s1")) == (
        "failed to get objectType:, objectName:, objectVersion:: file name must not be empty")


def test_uppercase_pfx_with_cert_passes_validation_as_upstream() -> None:
    validate_objects(parse_objects(one("objectName: c\nobjectType: cert\nobjectFormat: PFX")))
