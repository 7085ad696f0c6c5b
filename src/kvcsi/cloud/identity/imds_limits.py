"""IMDS throttling of the managed-identity endpoint, per VM.

Azure documents the Managed Identity category of IMDS as limited to 20 requests per second
and 5 concurrent requests per VM; beyond that IMDS answers 429 and clients retry with
backoff (azure-core retries 429 honouring ``Retry-After``). The local IMDS applies the
same defaults per vmId: a sliding one-second window and an in-flight count.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_REQUESTS_PER_SECOND = 20
DEFAULT_MAX_CONCURRENT = 5
WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class ImdsLimits:
    requests_per_second: int = DEFAULT_REQUESTS_PER_SECOND
    max_concurrent: int = DEFAULT_MAX_CONCURRENT


class VmThrottle:
    """Admission for one VM: :meth:`admit` returns None (go ahead; call :meth:`release`
    when done) or the ``Retry-After`` seconds of a 429."""

    def __init__(self, limits: ImdsLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._in_flight = 0

    def admit(self) -> int | None:
        with self._lock:
            now = self._clock()
            while self._recent and now - self._recent[0] >= WINDOW_SECONDS:
                self._recent.popleft()
            if len(self._recent) >= self.limits.requests_per_second:
                return max(1, math.ceil(WINDOW_SECONDS - (now - self._recent[0])))
            if self._in_flight >= self.limits.max_concurrent:
                return 1
            self._recent.append(now)
            self._in_flight += 1
            return None

    def release(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)


class ThrottleTable:
    """One :class:`VmThrottle` per vmId (lower-cased)."""

    def __init__(self, limits: ImdsLimits | None = None) -> None:
        self.limits = limits or ImdsLimits()
        self._lock = threading.Lock()
        self._by_vm: dict[str, VmThrottle] = {}

    def for_vm(self, vm_id: str) -> VmThrottle:
        with self._lock:
            throttle = self._by_vm.get(vm_id.lower())
            if throttle is None:
                throttle = self._by_vm[vm_id.lower()] = VmThrottle(self.limits)
            return throttle
