"""What every local-cloud app shares: ``CloudContext`` (contract §3.2).

One context is built by ``kvcsi-cloud`` (or the in-process runner) after the listeners are
bound, so every URL in it already carries the real ports, and is passed to the HTTPS apps
(Entra, Key Vault, ARM, Graph) and to the IMDS app.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kvcsi.cloud.endpoints import CloudEndpoints
from kvcsi.cloud.identity.tokens import TokenIssuer
from kvcsi.cloud.store import CloudStore
from kvcsi.cloud.tls import TlsFiles


@dataclass(frozen=True)
class CloudContext:
    """The state directory, the store, the token issuer and the public endpoints."""

    home: Path
    store: CloudStore
    issuer: TokenIssuer
    endpoints: CloudEndpoints
    tls: TlsFiles
    tenant_id: str
    subscription_id: str | None
    keyvault_delay_ms: int = 0
