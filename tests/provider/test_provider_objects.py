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
    ("objectName: ''\nobjectAlias: a\nobjectType: secret", "objectName is required"),
    ("objectName: s1\nobjectType: secret\nobjectAlias: ./a",
     'file name must be a clean path: "./a" is not ("a")'),
    ("objectName: s1\nobjectType: secret\nobjectAlias: a//b",
     'file name must be a clean path: "a//b" is not ("a/b")'),
    ("objectName: s1\nobjectType: secret\nobjectAlias: a/",
     'file name must be a clean path: "a/" is not ("a")'),
    ("objectName: s1\nobjectType: secret\nobjectAlias: ..hidden",
     "file name must not contain '..'"),
    ("objectName: s1\nobjectType: secret\nobjectAlias: a/../../b",
     "file name must not contain '..'"),
    ("objectName: ../x\nobjectType: secret", "file name must not contain '..'"),
    ("objectName: s1\nobjectType: secret\nobjectAlias: /etc/cron.d/x",
     "file name must be a relative path"),
    ("objectName: s1\nobjectType: kubernetes.io/dockerconfigjson",
     "Invalid vaultObjectTypes. Should be secret, key, or cert"),
    ("objectName: s1\nobjectType: ''", "Invalid vaultObjectTypes. Should be secret, key, or cert"),
    ("objectName: s1\nobjectType: cert\nobjectFormat: PFX",
     "PFX format only supported for objectType: secret"),
    ("objectName: s1\nobjectType: cert\nobjectEncoding: base64",
     "objectEncoding only supported for objectType: secret"),
    ("objectName: s1\nobjectType: secret\nobjectEncoding: base32",
     "invalid objectEncoding: base32, should be hex, base64 or utf-8"),
    ("objectName: s1\nobjectType: secret\nfilePermission: rw-r--r--",
     'file permission must be a valid octal number: strconv.ParseInt: parsing "rw-r--r--": '
     "invalid syntax"),
    ("objectName: s1\nobjectType: secret\nfilePermission: 017777",
     'file permission must be a valid octal number: strconv.ParseInt: parsing "017777": '
     "invalid syntax"),
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
        f"objectVersion:{obj.object_version}: {reason} (objects element 0)")


def test_misspelt_keys_are_named_with_the_nearest_known_key() -> None:
    # Case BB-02 a): yaml.v3 matches keys case-sensitively, so every field stays empty.
    assert parse_error(one("objectname: MySecret\nobjecttype: secret")) == (
        "failed to get objectType:, objectName:, objectVersion:: objectName is required; "
        'unknown keys: "objectname" (did you mean "objectName"?), "objecttype" (did you mean '
        '"objectType"?) (objects element 0)')


def test_the_failing_element_is_named() -> None:
    text = ("array:\n  - |\n    objectName: ok\n    objectType: secret\n"
            "  - |\n    objectName: bad\n    objectType: secret\n    objectAlias: ../x\n")
    assert parse_error(text) == ("failed to get objectType:secret, objectName:bad, "
                                 "objectVersion:: file name must not contain '..' "
                                 "(objects element 1)")


@pytest.mark.parametrize("body", [
    "objectName: s1\nobjectType: Secret\nobjectEncoding: HEX\nobjectFormat: PEM",
    "objectName: s1\nobjectType: SECRET\nobjectFormat: Pfx",
    "objectName: s1\nobjectType: Cert\nobjectFormat: pem",
    "objectName: s1\nobjectType: KEY",
    "objectName: s1\nobjectType: secret\nobjectAlias: dir/file",
    "objectName: s1\nobjectType: secret\nfilePermission: 0755",
    "objectName: s1\nobjectType: secret\nfilePermission: 600",
])
def test_valid_elements(body: str) -> None:
    validate_objects(parse_objects(one(body)))


def test_type_is_compared_case_insensitively_and_reported_lower_case() -> None:
    obj = parse_objects(one("objectName: s1\nobjectType: Secret\nobjectFormat: PFX"))[0]
    assert (obj.kind, obj.uid, obj.wants_pfx) == ("secret", "secret/s1", True)


def test_unknown_keys_give_warnings() -> None:
    from kvcsi.provider.objects import object_warnings
    objects = parse_objects(one("objectName: s1\nobjectType: secret\nobjectAliass: a\nzz: 1"))
    assert object_warnings(objects) == [
        'objects element 0: unknown keys: "objectAliass" (did you mean "objectAlias"?), "zz"']


def test_outer_indentation_error_names_the_objects_text_and_line() -> None:
    # Case BB-01 A: one line of the element one column left of its siblings.
    text = ("array:\n  - |\n    objectName: MySecret\n    objectType: secret\n"
            '   objectVersion: ""\n')
    assert parse_error(text) == (
        "failed to yaml unmarshal objects, error: yaml: line 5: expected <block end>, but "
        "found '<block mapping start>' (objects text, line 5, column 4: "
        '"   objectVersion: \\"\\"")')


def test_inner_indentation_error_names_the_element_and_its_line() -> None:
    # Case BB-01 B: one line two columns deeper than its siblings.
    text = ("array:\n  - |\n    objectName: MySecret\n    objectType: secret\n"
            "      objectAlias: my-alias\n")
    assert parse_error(text) == (
        "unmarshal failed for keyVaultObjects at index 0, error: yaml: line 3: mapping values "
        'are not allowed here (objects element 0, line 3, column 14: "  objectAlias: my-alias")')
