"""The provider Mount call behind a publish, coalesced across volumes of the node.

Upstream counterpart: ``MountContent`` as ``NodePublishVolume`` calls it, once per volume.
Here the call goes through :class:`~kvcsi.driver.coalescing.SingleFlight` under the
request's :func:`~kvcsi.driver.coalescing.coalescing_key`: volumes with the same request
share one call in flight, and a republish takes a result another volume fetched within the
rotation poll interval (a first mount or a forced refresh never takes a finished result,
only a call still in flight). A failed call stays cached for its backoff delay, so a
throttled vault sees one call per key per backoff window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from kvcsi.driver.coalescing import Outcome, SingleFlight, coalescing_key
from kvcsi.driver.errors import ProviderNotFound
from kvcsi.driver.provider_client import MountResult, ProviderClients
from kvcsi.driver.rotation import BackoffPolicy, failure_delay

# JSON of Go's os.FileMode(0644): the decimal string "420" (a deprecated field providers get).
PERMISSION = json.dumps(0o644)


def secrets_json(secrets: Mapping[str, str]) -> str:
    """Go's ``json.Marshal`` of the secrets map: ``null`` when there are none."""
    if not secrets:
        return "null"
    return json.dumps(dict(secrets), sort_keys=True, separators=(",", ":"))


class CoalescedFetcher:
    """Provider Mount calls, one per coalescing key at a time, results kept for ``ttl``."""

    def __init__(self, providers: ProviderClients, ttl: float, backoff: BackoffPolicy) -> None:
        self.providers = providers
        self.flights: SingleFlight[MountResult] = SingleFlight(ttl)
        self._retry_delay: Callable[[BaseException], float] = failure_delay(backoff)

    def fetch(
        self,
        provider: str,
        attributes: Mapping[str, str],
        secrets: Mapping[str, str],
        target_path: str,
        timeout: float | None,
        *,
        use_cache: bool,
    ) -> Outcome[MountResult]:
        try:
            self.providers.socket_path(provider)
        except ProviderNotFound as error:
            raise ProviderNotFound(f'error connecting to provider "{provider}": {error}') from error
        key = coalescing_key(provider, attributes, secrets)

        def call() -> MountResult:
            return self.providers.mount(
                provider,
                attributes=json.dumps(dict(attributes), sort_keys=True, separators=(",", ":")),
                secrets=secrets_json(secrets),
                target_path=target_path,
                permission=PERMISSION,
                timeout=timeout,
            )

        return self.flights.run(key, call, use_cache=use_cache, retry_delay=self._retry_delay)
