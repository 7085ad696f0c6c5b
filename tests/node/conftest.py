"""Fixtures for the node runtime tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from node_harness import NodeEnv, short_tmp_dir


@pytest.fixture
def env() -> Iterator[NodeEnv]:
    created = NodeEnv()
    yield created
    created.close()


@pytest.fixture
def mount_dir() -> Iterator[Path]:
    """A container mountPath that does not exist yet (``/tmp/kvn-.../secrets``)."""
    base = short_tmp_dir()
    yield base / "secrets"
    shutil.rmtree(base, ignore_errors=True)
