"""When a republish of a mounted volume fetches again: the rotation gate and its backoff.

Upstream counterpart: the rotation check at the top of ``NodePublishVolume`` (reference notes
§2.2 step 3, §4.1). Upstream compares ``now`` with ``mtime(target) + --rotation-poll-interval``;
the atomic writer leaves the directory alone when nothing changed, so once content is stable
every republish calls the provider (§7.3), and after a failure nothing slows the retries down
(#1483, Key Vault 429s in a hot loop). Here the gate keeps, per volume (target path):

* the time of the last successful fetch, so a volume fetches at most once per interval;
* consecutive failures and the time before which no retry is made: exponential backoff
  (``initial`` × ``factor``^(n-1), capped), never shorter than a ``Retry-After`` the provider
  passed on from a 429;
* the on-demand refresh token last served (pod or SecretProviderClass annotation
  ``secrets-store.csi.x-k8s.io/refresh``): a new value opens the gate at once, backoff or not.

State lives in memory; a restarted driver fetches on the first republish of each volume.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

THROTTLED_PATTERNS = (
    re.compile(r"\b429\b"),
    re.compile(r"too many requests", re.IGNORECASE),
    re.compile(r"\bthrottl", re.IGNORECASE),
)
RETRY_AFTER_PATTERN = re.compile(r"retry-after\W{0,3}(\d+(?:\.\d+)?)", re.IGNORECASE)


class GateDecision(Enum):
    FETCH = "fetch"  # the interval has passed (or never fetched)
    FORCED = "forced"  # a new on-demand refresh token
    WAIT_INTERVAL = "inside the rotation poll interval"
    BACKING_OFF = "backing off after a failed refresh"


@dataclass(frozen=True)
class BackoffPolicy:
    initial: float = 5.0
    factor: float = 2.0
    cap: float = 300.0

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure."""
        if failures <= 0:
            return 0.0
        delay = min(self.initial * self.factor ** (failures - 1), self.cap)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


def is_throttled(error_text: str) -> bool:
    return any(pattern.search(error_text) for pattern in THROTTLED_PATTERNS)


def retry_after_seconds(error_text: str) -> float | None:
    """A ``Retry-After: N`` the provider put into its error text, if any."""
    match = RETRY_AFTER_PATTERN.search(error_text)
    return float(match.group(1)) if match else None


@dataclass
class _VolumeState:
    last_fetch: float | None = None
    failures: int = 0
    retry_at: float = 0.0
    refresh_token: str = ""


class RotationGate:
    """Per-volume rotation bookkeeping; thread safe."""

    def __init__(
        self,
        poll_interval: float,
        backoff: BackoffPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.poll_interval = poll_interval
        self.backoff = backoff or BackoffPolicy()
        self.clock = clock
        self._volumes: dict[str, _VolumeState] = {}
        self._lock = threading.Lock()

    def decide(self, target: str, refresh_token: str = "") -> GateDecision:
        with self._lock:
            state = self._volumes.get(target)
            if state is None:
                return GateDecision.FETCH
            if refresh_token and refresh_token != state.refresh_token:
                return GateDecision.FORCED
            now = self.clock()
            if state.failures and now < state.retry_at:
                return GateDecision.BACKING_OFF
            if state.last_fetch is not None and now < state.last_fetch + self.poll_interval:
                return GateDecision.WAIT_INTERVAL
            return GateDecision.FETCH

    def succeeded(
        self, target: str, fetched_at: float | None = None, refresh_token: str = ""
    ) -> None:
        """Record a successful fetch; ``fetched_at`` is when the (maybe shared) call finished."""
        with self._lock:
            state = self._volumes.setdefault(target, _VolumeState())
            state.last_fetch = self.clock() if fetched_at is None else fetched_at
            state.failures = 0
            state.retry_at = 0.0
            state.refresh_token = refresh_token

    def failed(self, target: str, error_text: str, refresh_token: str = "") -> float:
        """Record a failed refresh; returns the backoff delay in seconds."""
        with self._lock:
            state = self._volumes.setdefault(target, _VolumeState())
            state.failures += 1
            retry_after = retry_after_seconds(error_text) if is_throttled(error_text) else None
            delay = self.backoff.delay(state.failures, retry_after)
            state.retry_at = self.clock() + delay
            # a forced refresh that failed is not retried at once on every republish
            state.refresh_token = refresh_token or state.refresh_token
            return delay

    def failures(self, target: str) -> int:
        with self._lock:
            state = self._volumes.get(target)
            return state.failures if state else 0

    def forget(self, target: str) -> None:
        with self._lock:
            self._volumes.pop(target, None)

    def tracked(self) -> int:
        with self._lock:
            return len(self._volumes)


def failure_delay(backoff: BackoffPolicy) -> Callable[[BaseException], float]:
    """How long a shared (coalesced) failure stays cached: the first backoff step, or the
    provider's ``Retry-After`` when it was throttled."""

    def delay(error: BaseException) -> float:
        text = str(error)
        retry_after = retry_after_seconds(text) if is_throttled(text) else None
        return backoff.delay(1, retry_after)

    return delay
