"""One local cloud per test module and ``az``: ``kvcsi az`` run in-process against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from az_runner import Az
from support.local_cloud import LocalCloud, running_local_cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with running_local_cloud(tmp_path_factory.mktemp("az") / "home") as running:
        yield running


@pytest.fixture(scope="module")
def az(cloud: LocalCloud) -> Az:
    return Az(cloud.home)


@pytest.fixture(scope="module")
def sub(cloud: LocalCloud) -> str:
    return str(cloud.endpoints["subscription_id"])
