"""The Key Vault authorization hook of the audit log: hands each decision to the request's
audit recorder.

:class:`kvcsi.cloud.keyvault.authorization.Authorizer` calls ``on_authorization(record)``
for every decision it makes. The recorder around the Key Vault app
(:func:`kvcsi.cloud.audit.recorder.audited_keyvault`) opens a collector for each request in a
context variable; the decision lands there (also from worker threads, which see the same
collector object) and becomes part of that request's audit event. Outside a recorded request
the hook does nothing.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_collector: ContextVar[list[Any] | None] = ContextVar("kvcsi_audit_collector", default=None)


def open_collector() -> tuple[list[Any], Any]:
    """Start collecting this request's decisions: ``(collector, token to close it)``."""
    collector: list[Any] = []
    return collector, _collector.set(collector)


def close_collector(token: Any) -> None:
    _collector.reset(token)


def on_authorization(record: Any) -> None:
    """Called by the Key Vault authorizer with an ``AuthorizationRecord``."""
    collector = _collector.get()
    if collector is not None:
        collector.append(record)
