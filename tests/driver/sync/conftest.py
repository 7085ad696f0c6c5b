"""Fixtures for the Secret sync tests: the rotation world with a syncing SecretProviderClass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..rotation.world import World, make_world, spc

SECRET_OBJECTS = [{
    "secretName": "app-secret",
    "type": "Opaque",
    "labels": {"team": "a"},
    "annotations": {"note": "synced"},
    "data": [{"objectName": "db-password", "key": "password"},
             {"objectName": "username", "key": "user"}],
}]


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    for built in make_world(tmp_path):
        built.store.create(spc(secret_objects=SECRET_OBJECTS))
        built.driver.provider.files = [("db-password", 0o644, b"s3cr3t"),
                                       ("username", 0o644, b"admin")]
        yield built
