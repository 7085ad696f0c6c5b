"""Fixtures for the cluster store tests: a fresh store file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kvcsi.cluster import LocalClusterStore


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(store_path: Path) -> Iterator[LocalClusterStore]:
    opened = LocalClusterStore(store_path)
    yield opened
    opened.close()
