"""One provider call per distinct request per rotation cycle: keys, single flight, cycle cache.

No upstream counterpart (upstream calls the provider once per volume per republish, so 200
pods mounting one SecretProviderClass cost 200 Mount calls and, with 10 objects, 2,000 Key
Vault reads per cycle). Here volumes on one node whose Mount request would be the same share
one call:

* :func:`coalescing_key` is a SHA-256 over the request minus what only names the pod
  (``pod.name``, ``pod.uid``): provider, every other attribute (SPC parameters, the pod's
  ``volumeAttributes``, namespace, service account name), the ``secrets`` map
  (``nodePublishSecretRef``) and the on-demand refresh token. Pods with a different service
  account, namespace or ``nodePublishSecretRef`` therefore never share. Service-account tokens
  are bound to one pod, so their values always differ; the key keeps the token *audiences*
  and the service account they belong to (the identity) and not the token values. When the
  SecretProviderClass selects a per-pod identity (``usePodIdentity: "true"``, aad-pod-identity)
  the pod name and uid stay in the key, so such pods never share.
* :class:`SingleFlight` runs one call per key at a time (concurrent callers wait for it) and
  keeps the outcome for the cycle: a result for ``ttl`` seconds, a failure until its retry time
  (so a throttled vault sees one call per backoff window per key, not one per pod).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

POD_NAME_KEY = "csi.storage.k8s.io/pod.name"
POD_UID_KEY = "csi.storage.k8s.io/pod.uid"
SERVICE_ACCOUNT_TOKENS_KEY = "csi.storage.k8s.io/serviceAccount.tokens"
POD_SPECIFIC_KEYS = (POD_NAME_KEY, POD_UID_KEY)
PER_POD_IDENTITY_PARAMETER = "usePodIdentity"

T = TypeVar("T")


def _token_audiences(tokens_json: str) -> list[str]:
    try:
        tokens = json.loads(tokens_json)
    except ValueError:
        return ["<unparsable>"]
    return sorted(tokens) if isinstance(tokens, dict) else ["<unparsable>"]


def uses_per_pod_identity(attributes: Mapping[str, str]) -> bool:
    return str(attributes.get(PER_POD_IDENTITY_PARAMETER, "")).strip().lower() == "true"


def coalescing_key(
    provider: str,
    attributes: Mapping[str, str],
    secrets: Mapping[str, str],
    refresh_token: str = "",
) -> str:
    """The hex digest naming every volume whose Mount request is interchangeable."""
    shared = dict(attributes)
    if not uses_per_pod_identity(attributes):
        for key in POD_SPECIFIC_KEYS:
            shared.pop(key, None)
    tokens = shared.pop(SERVICE_ACCOUNT_TOKENS_KEY, None)
    shared_secrets = dict(secrets)
    secret_tokens = shared_secrets.pop(SERVICE_ACCOUNT_TOKENS_KEY, None)
    audiences = [_token_audiences(t) for t in (tokens, secret_tokens) if t]
    material = json.dumps(
        [provider, shared, shared_secrets, audiences, refresh_token],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one provider call gave: its result or its error, and when it finished."""

    result: T | None
    error: BaseException | None
    finished_at: float  # time.monotonic()
    retry_at: float = 0.0  # failures only: no new call for this key before this time
    shared: bool = False  # True when this caller did not make the call itself


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: Outcome | None = None


class SingleFlight(Generic[T]):
    """Per-key single flight plus a short outcome cache; thread safe."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self.calls = 0  # calls actually made
        self.shared_hits = 0  # callers served by another caller's call
        self._flights: dict[str, _Flight] = {}
        self._outcomes: dict[str, Outcome] = {}
        self._lock = threading.Lock()

    def run(
        self,
        key: str,
        call: Callable[[], T],
        *,
        use_cache: bool = True,
        retry_delay: Callable[[BaseException], float] | None = None,
    ) -> Outcome[T]:
        """The outcome for ``key``: a cached one, the running call's, or a new call's.

        ``use_cache=False`` (a first mount) still joins a call already in flight but never
        takes a finished outcome. ``retry_delay(error)`` says how long a failure stays cached.
        """
        with self._lock:
            now = self.clock()
            self._evict(now)
            cached = self._outcomes.get(key)
            if use_cache and cached is not None and self._fresh(cached, now):
                self.shared_hits += 1
                return _as_shared(cached)
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = _Flight()
                self._flights[key] = flight
        if not leader:
            flight.done.wait()
            assert flight.outcome is not None
            with self._lock:
                self.shared_hits += 1
            return _as_shared(flight.outcome)
        outcome: Outcome[T] | None = None
        try:
            outcome = self._call(call, retry_delay)
        finally:  # waiters are released even if the leader is interrupted
            with self._lock:
                self._flights.pop(key, None)
                if outcome is None:
                    flight.outcome = Outcome(None, RuntimeError("call interrupted"),
                                             self.clock())
                else:
                    self._outcomes[key] = outcome
                    flight.outcome = outcome
            flight.done.set()
        return outcome

    def _call(
        self, call: Callable[[], T], retry_delay: Callable[[BaseException], float] | None
    ) -> Outcome[T]:
        with self._lock:
            self.calls += 1
        try:
            result = call()
        except Exception as error:  # handed to every waiter, re-raised by the caller
            finished = self.clock()
            delay = retry_delay(error) if retry_delay is not None else 0.0
            return Outcome(None, error, finished, retry_at=finished + delay)
        return Outcome(result, None, self.clock())

    def _fresh(self, outcome: Outcome, now: float) -> bool:
        if outcome.error is not None:
            return now < outcome.retry_at
        return now < outcome.finished_at + self.ttl

    def _evict(self, now: float) -> None:
        stale = [key for key, outcome in self._outcomes.items() if not self._fresh(outcome, now)]
        for key in stale:
            del self._outcomes[key]

    def forget(self, key: str) -> None:
        with self._lock:
            self._outcomes.pop(key, None)

    def cached_keys(self) -> int:
        with self._lock:
            self._evict(self.clock())
            return len(self._outcomes)


def _as_shared(outcome: Outcome[T]) -> Outcome[T]:
    return Outcome(outcome.result, outcome.error, outcome.finished_at, outcome.retry_at, True)
