"""The rotation gate alone: interval, backoff, Retry-After and refresh tokens."""

from __future__ import annotations

import pytest

from kvcsi.driver.rotation import (
    BackoffPolicy,
    GateDecision,
    RotationGate,
    is_throttled,
    retry_after_seconds,
)

from .world import FakeClock


def _gate() -> tuple[RotationGate, FakeClock]:
    clock = FakeClock()
    return RotationGate(30, BackoffPolicy(initial=5, factor=2, cap=40), clock=clock), clock


def test_unknown_volume_fetches_then_waits_for_the_interval() -> None:
    gate, clock = _gate()
    assert gate.decide("/t") is GateDecision.FETCH
    gate.succeeded("/t")
    clock.advance(29.9)
    assert gate.decide("/t") is GateDecision.WAIT_INTERVAL
    clock.advance(0.1)
    assert gate.decide("/t") is GateDecision.FETCH


def test_shared_result_aligns_the_volume_with_the_fetch_time() -> None:
    gate, clock = _gate()
    gate.succeeded("/t", fetched_at=clock.now - 20)
    clock.advance(10)
    assert gate.decide("/t") is GateDecision.FETCH


def test_backoff_doubles_up_to_the_cap_and_resets_on_success() -> None:
    gate, clock = _gate()
    gate.succeeded("/t")
    delays = [gate.failed("/t", "boom") for _ in range(5)]
    assert delays == [5, 10, 20, 40, 40]
    assert gate.decide("/t") is GateDecision.BACKING_OFF
    clock.advance(40)
    assert gate.decide("/t") is GateDecision.FETCH
    gate.succeeded("/t")
    assert gate.failures("/t") == 0
    assert gate.failed("/t", "boom") == 5


def test_new_refresh_token_overrides_backoff_and_interval_once() -> None:
    gate, _clock = _gate()
    gate.succeeded("/t")
    gate.failed("/t", "boom")
    assert gate.decide("/t", "pod=1;spc=") is GateDecision.FORCED
    gate.succeeded("/t", refresh_token="pod=1;spc=")
    assert gate.decide("/t", "pod=1;spc=") is GateDecision.WAIT_INTERVAL


@pytest.mark.parametrize(("text", "throttled", "retry_after"), [
    ("RESPONSE 429: 429 Too Many Requests\nRetry-After: 12", True, 12.0),
    ("Too many requests. Please retry later.", True, None),
    ("ERROR CODE: Throttled", True, None),
    ("RESPONSE 403: 403 Forbidden", False, None),
])
def test_throttling_detection(text: str, throttled: bool, retry_after: float | None) -> None:
    assert is_throttled(text) is throttled
    assert (retry_after_seconds(text) if throttled else None) == retry_after


def test_retry_after_only_lengthens_the_backoff() -> None:
    policy = BackoffPolicy(initial=5, factor=2, cap=40)
    assert policy.delay(1, retry_after=2) == 5
    assert policy.delay(1, retry_after=90) == 90
