"""Key Vault's error answers: the domain errors and the one table that maps them to HTTP.

Every error body is Key Vault's envelope ``{"error": {"code", "message"[, "innererror":
{"code"}]}}``; status, code and inner code come from ``ERROR_TABLE``. 401 answers also carry
the ``WWW-Authenticate`` challenge and 429 answers ``Retry-After`` (added by the app).

| error | HTTP | code / innererror |
|---|---|---|
| BadParameter | 400 | BadParameter |
| Unauthorized | 401 | Unauthorized |
| ForbiddenByRbac / AccessDenied | 403 | Forbidden / ForbiddenByRbac, AccessDenied |
| SecretDisabled / KeyDisabled | 403 | Forbidden / SecretDisabled, KeyDisabled |
| OperationNotAllowed | 403 | Forbidden |
| SecretManagedByKeyVault / KeyManagedByKeyVault | 403 | Forbidden / same |
| ContactsNotFound / IssuerNotFound | 404 | ContactsNotFound / CertificateIssuerNotFound |
| SecretNotFound / KeyNotFound / CertificateNotFound | 404 | same |
| VaultNotFound / UnknownOperation | 404 | VaultNotFound / NotFound |
| MethodNotAllowed | 405 | BadRequest |
| ObjectIsDeletedButRecoverable | 409 | Conflict / ObjectIsDeletedButRecoverable |
| Conflict | 409 | Conflict |
| Throttled | 429 | Throttled |
"""

from __future__ import annotations

from typing import Any

NOT_FOUND_HELP = (
    "If you recently deleted this {kind} you may be able to recover it using the correct "
    "recovery command. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125182"
)
SECRET_NOT_FOUND_HELP = NOT_FOUND_HELP.format(kind="secret")


class KeyVaultError(Exception):
    """Base of every error Key Vault answers with; ``message`` is the text of the body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VaultNotFound(KeyVaultError):
    pass


class UnknownOperation(KeyVaultError):
    pass


class MethodNotAllowed(KeyVaultError):
    pass


class BadParameter(KeyVaultError):
    pass


class Unauthorized(KeyVaultError):
    pass


class ForbiddenByRbac(KeyVaultError):
    pass


class AccessDenied(KeyVaultError):
    pass


class SecretDisabled(KeyVaultError):
    pass


class KeyDisabled(KeyVaultError):
    pass


class OperationNotAllowed(KeyVaultError):
    pass


class SecretManagedByKeyVault(KeyVaultError):
    """Set/delete of a certificate's backing secret (see ``certificates_managed``)."""


class KeyManagedByKeyVault(KeyVaultError):
    """Import/delete of a certificate's backing key (see ``certificates_managed``)."""


class ContactsNotFound(KeyVaultError):
    def __init__(self) -> None:
        super().__init__("Contacts not found")


class IssuerNotFound(KeyVaultError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Issuer not found: {name}")


class Conflict(KeyVaultError):
    pass


class Throttled(KeyVaultError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Request was not processed because too many requests were received. "
                         "Reason: VaultRequestTypeLimitReached")
        self.retry_after_seconds = retry_after_seconds


class ObjectNotFound(KeyVaultError):
    """``A {kind} with (name/id) {name}[/{version}] was not found in this key vault. ...``"""

    kind = "object"

    def __init__(self, name: str, version: str | None = None) -> None:
        name_or_id = f"{name}/{version}" if version else name
        super().__init__(f"A {self.kind} with (name/id) {name_or_id} was not found in this key "
                         "vault. " + NOT_FOUND_HELP.format(kind=self.kind))


class SecretNotFound(ObjectNotFound):
    kind = "secret"


class KeyNotFound(ObjectNotFound):
    kind = "key"


class CertificateNotFound(ObjectNotFound):
    kind = "certificate"


class DeletedObjectNotFound(KeyVaultError):
    """``Deleted {Kind} not found: {name}`` (code of the object type)."""

    label = "Object"

    def __init__(self, name: str) -> None:
        super().__init__(f"Deleted {self.label} not found: {name}")


class DeletedSecretNotFound(DeletedObjectNotFound):
    label = "Secret"


class DeletedKeyNotFound(DeletedObjectNotFound):
    label = "Key"


class DeletedCertificateNotFound(DeletedObjectNotFound):
    label = "Certificate"


class ObjectIsDeletedButRecoverable(KeyVaultError):
    def __init__(self, kind: str, name: str) -> None:
        label = kind.capitalize()
        super().__init__(f"{label} {name} is currently in a deleted but recoverable state, and "
                         f"its name cannot be reused; in this state, the {kind} can only be "
                         "recovered or purged.")


# error type -> (HTTP status, error.code, error.innererror.code or None)
ERROR_TABLE: dict[type[KeyVaultError], tuple[int, str, str | None]] = {
    VaultNotFound: (404, "VaultNotFound", None),
    UnknownOperation: (404, "NotFound", None),
    MethodNotAllowed: (405, "BadRequest", None),
    BadParameter: (400, "BadParameter", None),
    Unauthorized: (401, "Unauthorized", None),
    ForbiddenByRbac: (403, "Forbidden", "ForbiddenByRbac"),
    AccessDenied: (403, "Forbidden", "AccessDenied"),
    SecretDisabled: (403, "Forbidden", "SecretDisabled"),
    KeyDisabled: (403, "Forbidden", "KeyDisabled"),
    OperationNotAllowed: (403, "Forbidden", None),
    SecretManagedByKeyVault: (403, "Forbidden", "SecretManagedByKeyVault"),
    KeyManagedByKeyVault: (403, "Forbidden", "KeyManagedByKeyVault"),
    ContactsNotFound: (404, "ContactsNotFound", None),
    IssuerNotFound: (404, "CertificateIssuerNotFound", None),
    SecretNotFound: (404, "SecretNotFound", None),
    KeyNotFound: (404, "KeyNotFound", None),
    CertificateNotFound: (404, "CertificateNotFound", None),
    DeletedSecretNotFound: (404, "SecretNotFound", None),
    DeletedKeyNotFound: (404, "KeyNotFound", None),
    DeletedCertificateNotFound: (404, "CertificateNotFound", None),
    ObjectIsDeletedButRecoverable: (409, "Conflict", "ObjectIsDeletedButRecoverable"),
    Conflict: (409, "Conflict", None),
    Throttled: (429, "Throttled", None),
}


def error_status_and_body(error: KeyVaultError) -> tuple[int, dict[str, Any]]:
    for error_type in type(error).__mro__:
        if error_type in ERROR_TABLE:
            status, code, inner = ERROR_TABLE[error_type]
            break
    else:
        status, code, inner = 400, "BadRequest", None
    body: dict[str, Any] = {"code": code, "message": error.message}
    if inner is not None:
        body["innererror"] = {"code": inner}
    return status, {"error": body}
