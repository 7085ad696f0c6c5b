"""The Key Vault audit log: every data-plane request recorded (no values), and its queries.

``audited_keyvault(app, ctx)`` wraps the Key Vault app (its events are queued and written in
batches by :mod:`.writer`; ``close_writers(store)`` writes what is left at shutdown);
``AuditLog(store)`` appends and queries events; ``AuditQuery`` holds the filters of
``kvcsi audit``.
"""

from kvcsi.cloud.audit.log import AuditEvent, AuditLog, AuditQuery
from kvcsi.cloud.audit.recorder import audited_keyvault
from kvcsi.cloud.audit.writer import close_writers

__all__ = ["AuditEvent", "AuditLog", "AuditQuery", "audited_keyvault", "close_writers"]
