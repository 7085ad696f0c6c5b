"""Per-vault request throttling: Key Vault's 429 ``Throttled`` with ``Retry-After``.

Counterpart of Key Vault's service limits (``azure-protocols.md`` §6.4). Off unless
configured, because the real limits (4,000 requests per 10 s per vault) are far above what
local use reaches. Two ways to configure it, the first one found wins:

- a store document of kind ``kv-throttle`` keyed by the vault name (lower-cased):
  ``{"requests": N, "seconds": S}`` (tests write it; :func:`set_vault_throttle`);
- the environment variable ``KVCSI_KEYVAULT_THROTTLE`` of the cloud process: ``N/S`` for
  every vault, or ``name=N/S,other=N/S`` per vault.

A vault allows ``N`` requests in any sliding window of ``S`` seconds; the rest get 429 with
``Retry-After`` = whole seconds until the oldest counted request leaves the window. Refused
requests do not count, as on Key Vault.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from kvcsi.cloud.keyvault.errors import Throttled
from kvcsi.cloud.keyvault.freshness import StoreWatch, WatchedCache
from kvcsi.cloud.store import CloudStore

KIND = "kv-throttle"
ENVIRONMENT_VARIABLE = "KVCSI_KEYVAULT_THROTTLE"


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: float


def parse_limit(text: str) -> Limit:
    requests, _, seconds = text.strip().partition("/")
    return Limit(int(requests), float(seconds or 10))


def parse_environment(value: str | None) -> tuple[Limit | None, dict[str, Limit]]:
    """``(limit for every vault, per-vault limits)`` from ``KVCSI_KEYVAULT_THROTTLE``."""
    if not value:
        return None, {}
    default, per_vault = None, {}
    for part in value.split(","):
        if "=" in part:
            name, _, limit = part.partition("=")
            per_vault[name.strip().lower()] = parse_limit(limit)
        elif part.strip():
            default = parse_limit(part)
    return default, per_vault


def set_vault_throttle(store: CloudStore, vault_name: str, requests: int | None,
                       seconds: float = 10) -> None:
    """Throttle ``vault_name`` to ``requests`` per ``seconds`` (None removes the limit)."""
    if requests is None:
        store.delete(KIND, vault_name.lower())
    else:
        store.put(KIND, vault_name.lower(), {"requests": requests, "seconds": seconds})


class VaultThrottle:
    """Sliding-window counters of every throttled vault."""

    def __init__(self, store: CloudStore, environment: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self._clock = clock
        self._default, self._per_vault = parse_environment(
            os.environ.get(ENVIRONMENT_VARIABLE) if environment is None else environment)
        self._limits: WatchedCache[str, Limit | None] | None = None
        self._windows: dict[str, deque[float]] = {}

    def _limit(self, vault_name: str) -> Limit | None:
        if self._limits is None:
            self._limits = WatchedCache(StoreWatch(self.store, [KIND]))
        limits = self._limits.entries()
        if vault_name not in limits:
            doc = self.store.get(KIND, vault_name)
            limits[vault_name] = (
                Limit(int(doc["requests"]), float(doc["seconds"])) if doc is not None
                else self._per_vault.get(vault_name, self._default))
        return limits[vault_name]

    def admit(self, vault_name: str) -> None:
        """Count one request to ``vault_name``, or raise :class:`Throttled`."""
        limit = self._limit(vault_name.lower())
        if limit is None:
            return
        now = self._clock()
        window = self._windows.setdefault(vault_name.lower(), deque())
        while window and window[0] <= now - limit.seconds:
            window.popleft()
        if len(window) >= limit.requests:
            wait = window[0] + limit.seconds - now if window else limit.seconds
            raise Throttled(max(1, math.ceil(wait)))
        window.append(now)
