"""BB-01: an indentation error inside ``objects`` names its layer and line, before any call."""

from __future__ import annotations

import grpc
from support.provider_world import World

PREFIX = "failed to mount objects, error: "

OUTER_BROKEN = ('array:\n  - |\n    objectName: MySecret\n    objectType: secret\n'
                '   objectVersion: ""\n')
ELEMENT_BROKEN = ("array:\n  - |\n    objectName: MySecret\n    objectType: secret\n"
                  "      objectAlias: my-alias\n")


def test_a_outer_document_broken(world: World) -> None:
    outcome = world.mount(world.parameters(), OUTER_BROKEN)
    assert outcome.code == grpc.StatusCode.UNKNOWN
    assert outcome.error == (
        PREFIX + "failed to yaml unmarshal objects, error: yaml: line 5: expected <block end>, "
        "but found '<block mapping start>' (objects text, line 5, column 4: "
        '"   objectVersion: \\"\\"")')
    assert outcome.files == {} and world.gateway_calls == []
    assert world.mount(world.parameters(), OUTER_BROKEN).error == outcome.error


def test_b_element_broken(world: World) -> None:
    outcome = world.mount(world.parameters(), ELEMENT_BROKEN)
    assert outcome.error == (
        PREFIX + "unmarshal failed for keyVaultObjects at index 0, error: yaml: line 3: mapping "
        "values are not allowed here (objects element 0, line 3, column 14: "
        '"  objectAlias: my-alias")')
    assert outcome.files == {} and world.gateway_calls == []
    assert world.mount(world.parameters(), ELEMENT_BROKEN).error == outcome.error
