"""JSON shapes of Key Vault secret answers: SecretBundle, SecretItem, attributes, ids.

Field names and their presence follow the REST spec (7.x / 2025+): timestamps are integer
Unix seconds, absent optional fields are omitted, list items never carry ``value``.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.keyvault.secrets import SecretVersion

RECOVERY_LEVEL = "Recoverable+Purgeable"
RECOVERABLE_DAYS = 90


def vault_base_url(vault: str, dns_suffix: str) -> str:
    return f"https://{vault.lower()}.{dns_suffix}"


def attributes(secret: SecretVersion) -> dict[str, Any]:
    result: dict[str, Any] = {"enabled": secret.enabled}
    if secret.not_before is not None:
        result["nbf"] = secret.not_before
    if secret.expires is not None:
        result["exp"] = secret.expires
    result.update({"created": secret.created, "updated": secret.updated,
                   "recoveryLevel": RECOVERY_LEVEL, "recoverableDays": RECOVERABLE_DAYS})
    return result


def _common(secret: SecretVersion, secret_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": secret_id}
    if secret.content_type is not None:
        body["contentType"] = secret.content_type
    body["attributes"] = attributes(secret)
    if secret.tags is not None:
        body["tags"] = secret.tags
    return body


def secret_bundle(secret: SecretVersion, value: str, base_url: str) -> dict[str, Any]:
    bundle = {"value": value}
    bundle.update(_common(secret, f"{base_url}/secrets/{secret.name}/{secret.version}"))
    return bundle


def secret_item(secret: SecretVersion, base_url: str, *, with_version: bool) -> dict[str, Any]:
    secret_id = f"{base_url}/secrets/{secret.name}"
    if with_version:
        secret_id += f"/{secret.version}"
    return _common(secret, secret_id)
