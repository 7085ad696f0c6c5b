"""BB-03: objectAlias / objectName cannot leave the volume; ``dir/file`` is allowed.

kvcsi's rule (docs/provider.md): a file name must be relative, contain no ``..`` anywhere
(upstream's stricter rule, so ``my..secret`` is refused too) and be in clean form (``./a``,
``a//b`` and ``a/`` are refused by the provider, before the driver would refuse them).
"""

from __future__ import annotations

import pytest
from support.provider_world import World, objects_yaml

PREFIX = "failed to mount objects, error: failed to get objectType:secret, objectName:"


@pytest.mark.parametrize(("name", "alias", "reason"), [
    ("MySecret", "../../../../../tmp/pwned", "file name must not contain '..'"),
    ("MySecret", "/etc/cron.d/x", "file name must be a relative path"),
    ("MySecret", "..hidden", "file name must not contain '..'"),
    ("MySecret", "a/../../b", "file name must not contain '..'"),
    ("MySecret", "my..secret", "file name must not contain '..'"),
    ("MySecret", "./a", 'file name must be a clean path: "./a" is not ("a")'),
    ("MySecret", "a//b", 'file name must be a clean path: "a//b" is not ("a/b")'),
    ("MySecret", "a/", 'file name must be a clean path: "a/" is not ("a")'),
    ("../x", "", "file name must not contain '..'"),
])
def test_refused_before_fetching(world: World, name: str, alias: str, reason: str) -> None:
    world.gateway_calls.clear()
    body = f"objectName: {name}\nobjectType: secret" + (f"\nobjectAlias: {alias}" if alias
                                                         else "")
    outcome = world.mount(world.parameters(), objects_yaml(body))
    assert outcome.error == f"{PREFIX}{name}, objectVersion:: {reason} (objects element 0)"
    assert outcome.files == {} and world.gateway_calls == []


def test_nested_alias_is_allowed(world: World) -> None:
    world.secrets().set_secret("MySecret", "s3cr3t")
    outcome = world.mount(world.parameters(), objects_yaml(
        "objectName: MySecret\nobjectType: secret\nobjectAlias: dir/file"))
    assert outcome.files == {"dir/file": (0o644, b"s3cr3t")}
