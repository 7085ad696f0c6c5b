"""BB-02: field-level validation of object entries, before contacting Azure."""

from __future__ import annotations

import grpc
import pytest
from support.provider_world import World, objects_yaml

PREFIX = "failed to mount objects, error: "


@pytest.mark.parametrize(("body", "message"), [
    ("objectname: MySecret\nobjecttype: secret",
     "failed to get objectType:, objectName:, objectVersion:: objectName is required; unknown "
     'keys: "objectname" (did you mean "objectName"?), "objecttype" (did you mean '
     '"objectType"?) (objects element 0)'),
    ("objectName: MySecret\nobjectType: kubernetes.io/dockerconfigjson",
     "failed to get objectType:kubernetes.io/dockerconfigjson, objectName:MySecret, "
     "objectVersion:: Invalid vaultObjectTypes. Should be secret, key, or cert "
     "(objects element 0)"),
    ("objectName: MyCert\nobjectType: cert\nobjectEncoding: base64",
     "failed to get objectType:cert, objectName:MyCert, objectVersion:: objectEncoding only "
     "supported for objectType: secret (objects element 0)"),
    ("objectName: MyCert\nobjectType: cert\nobjectFormat: PFX",
     "failed to get objectType:cert, objectName:MyCert, objectVersion:: PFX format only "
     "supported for objectType: secret (objects element 0)"),
    ("objectName: MySecret\nobjectType: secret\nobjectEncoding: base32",
     "failed to get objectType:secret, objectName:MySecret, objectVersion:: invalid "
     "objectEncoding: base32, should be hex, base64 or utf-8 (objects element 0)"),
    ("objectName: MySecret\nobjectType: secret\nfilePermission: 0900",
     "failed to get objectType:secret, objectName:MySecret, objectVersion:: file permission "
     'must be a valid octal number: strconv.ParseInt: parsing "0900": invalid syntax '
     "(objects element 0)"),
], ids=["a-wrong-case-keys", "b-type", "c-cert-encoding", "d-cert-PFX", "e-base32",
        "invalid-file-permission"])
def test_rejected_before_any_call(world: World, body: str, message: str) -> None:
    world.gateway_calls.clear()
    outcome = world.mount(world.parameters(), objects_yaml(body))
    assert (outcome.code, outcome.error) == (grpc.StatusCode.UNKNOWN, PREFIX + message)
    assert outcome.files == {} and world.gateway_calls == []


def test_the_second_element_is_named(world: World) -> None:
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: MySecret\nobjectType: secret", "objectName: Other\nobjectType: Key\n"
        "objectEncoding: hex"))
    assert outcome.error == PREFIX + (
        "failed to get objectType:Key, objectName:Other, objectVersion:: objectEncoding only "
        "supported for objectType: secret (objects element 1)")


def test_type_format_and_encoding_are_case_insensitive(world: World) -> None:
    version = world.secrets().set_secret("CaseSecret", "6869").properties.version
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: CaseSecret\nobjectType: SECRET\nobjectEncoding: HEX\nobjectFormat: PEM"))
    assert outcome.error is None
    assert outcome.files == {"CaseSecret": (0o644, b"hi")}
    assert outcome.versions == [("secret/CaseSecret", version)]
