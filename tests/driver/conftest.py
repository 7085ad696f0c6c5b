"""Fixtures for the driver tests (the harness itself lives in :mod:`.harness`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kvcsi.driver.mounter import DirectoryMounter

from .harness import DriverHarness, make_driver


@pytest.fixture
def driver() -> Iterator[DriverHarness]:
    """A driver with the plain-directory mounter (works with or without root)."""
    yield from make_driver(DirectoryMounter())
