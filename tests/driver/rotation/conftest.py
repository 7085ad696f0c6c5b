"""Fixtures for the rotation tests (the world itself lives in :mod:`.world`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .world import World, make_world, spc


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    for built in make_world(tmp_path):
        built.store.create(spc())
        yield built
