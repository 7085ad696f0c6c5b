"""The provider's background event loop (:mod:`kvcsi.provider.fetch_loop`)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kvcsi.provider.fetch_loop import FetchLoop


async def _answer(value: int) -> tuple[int, str]:
    await asyncio.sleep(0)
    return value * 2, threading.current_thread().name


async def _fail() -> None:
    raise ValueError("refused by the vault")


def test_run_returns_the_result_computed_on_the_loop_thread() -> None:
    loop = FetchLoop(name="kvcsi-test-loop")
    assert loop.run(_answer(21)) == (42, "kvcsi-test-loop")


def test_run_raises_the_coroutines_exception() -> None:
    loop = FetchLoop()
    with pytest.raises(ValueError, match="^refused by the vault$"):
        loop.run(_fail())


def test_exit_cleanups_run_on_the_loop() -> None:
    loop = FetchLoop(name="kvcsi-test-exit")
    ran: list[str] = []

    async def cleanup() -> None:
        ran.append(threading.current_thread().name)

    loop.on_exit(cleanup)
    loop.run(_answer(1))
    loop._at_exit()
    assert ran == ["kvcsi-test-exit"]
