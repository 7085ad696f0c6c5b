"""Key Vault's error answers: the domain errors and the one table that maps them to HTTP.

Every error body is Key Vault's envelope ``{"error": {"code", "message"[, "innererror":
{"code"}]}}``; status, code and inner code come from ``ERROR_TABLE``. 401 answers also carry
the ``WWW-Authenticate`` challenge (added by the routes, which know the vault's tenant).
"""

from __future__ import annotations

from typing import Any

SECRET_NOT_FOUND_HELP = (
    "If you recently deleted this secret you may be able to recover it using the correct "
    "recovery command. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125182"
)


class KeyVaultError(Exception):
    """Base of every error Key Vault answers with; ``message`` is the text of the body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VaultNotFound(KeyVaultError):
    pass


class UnknownOperation(KeyVaultError):
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


class SecretNotFound(KeyVaultError):
    def __init__(self, name: str, version: str | None = None) -> None:
        name_or_id = f"{name}/{version}" if version else name
        super().__init__(
            f"A secret with (name/id) {name_or_id} was not found in this key vault. "
            + SECRET_NOT_FOUND_HELP
        )


# error type -> (HTTP status, error.code, error.innererror.code or None)
ERROR_TABLE: dict[type[KeyVaultError], tuple[int, str, str | None]] = {
    VaultNotFound: (404, "VaultNotFound", None),
    UnknownOperation: (404, "NotFound", None),
    BadParameter: (400, "BadParameter", None),
    Unauthorized: (401, "Unauthorized", None),
    ForbiddenByRbac: (403, "Forbidden", "ForbiddenByRbac"),
    AccessDenied: (403, "Forbidden", "AccessDenied"),
    SecretDisabled: (403, "Forbidden", "SecretDisabled"),
    SecretNotFound: (404, "SecretNotFound", None),
}


def error_status_and_body(error: KeyVaultError) -> tuple[int, dict[str, Any]]:
    status, code, inner = ERROR_TABLE[type(error)]
    body: dict[str, Any] = {"code": code, "message": error.message}
    if inner is not None:
        body["innererror"] = {"code": inner}
    return status, {"error": body}
