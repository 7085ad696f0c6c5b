"""The Key Vault audit log: every data-plane request recorded (no values), and its queries.

``audited_keyvault(app, ctx)`` wraps the Key Vault app; ``AuditLog(store)`` appends and
queries events; ``AuditQuery`` holds the filters of ``kvcsi audit``.
"""

from kvcsi.cloud.audit.log import AuditEvent, AuditLog, AuditQuery
from kvcsi.cloud.audit.recorder import audited_keyvault

__all__ = ["AuditEvent", "AuditLog", "AuditQuery", "audited_keyvault"]
