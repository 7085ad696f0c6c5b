"""Rules the secrets and keys routes apply to certificate-backed (``managed``) objects.

Counterpart of two Key Vault behaviours for the backing secret and key of a certificate:

- they cannot be set, imported or deleted directly: 403 ``Forbidden`` with innererror
  ``SecretManagedByKeyVault`` / ``KeyManagedByKeyVault`` and the text Key Vault gives,
  ``Operation "set" is not allowed as this object's lifetime is managed by Key Vault.``
  (the key's inner code is kvcsi's choice: only the secret's is seen in the wild);
- ``GET /secrets/{name}[/{version}]?outContentType=`` (api-version 2025 and later) converts a
  certificate-backed value between ``application/x-pkcs12`` and ``application/x-pem-file``
  (any other value is 400 ``BadParameter``). On secrets that are not certificate-backed, and
  on older api-versions, the parameter is ignored.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cloud.keyvault import certificates_formats as formats
from kvcsi.cloud.keyvault.errors import KeyManagedByKeyVault, SecretManagedByKeyVault
from kvcsi.cloud.keyvault.objects import VersionedObjects

OUT_CONTENT_TYPE = "outContentType"
FIRST_CONVERTING_API_VERSION = "2025"


def _managed_message(operation: str) -> str:
    return (f'Operation "{operation}" is not allowed as this object\'s lifetime is managed by '
            "Key Vault.")


def _is_managed(objects: VersionedObjects, vault: str, name: str) -> bool:
    head = objects.live_head(vault, name)
    return head is not None and bool(head["current"].get("managed"))


def refuse_managed_secret(objects: VersionedObjects, vault: str, name: str,
                          operation: str) -> None:
    """403 when ``name`` is the live backing secret of a certificate."""
    if _is_managed(objects, vault, name):
        raise SecretManagedByKeyVault(_managed_message(operation))


def refuse_managed_key(objects: VersionedObjects, vault: str, name: str,
                       operation: str) -> None:
    """403 when ``name`` is the live backing key of a certificate."""
    if _is_managed(objects, vault, name):
        raise KeyManagedByKeyVault(_managed_message(operation))


def _converts(api_version: str) -> bool:
    year = api_version[:4]
    return year.isdigit() and year >= FIRST_CONVERTING_API_VERSION


def converted_secret(doc: dict[str, Any], value: str, query: Any,
                     api_version: str) -> tuple[dict[str, Any], str]:
    """The version document and value a GET secret answers with: converted (value and
    ``contentType``) when ``outContentType`` asks for it, else unchanged."""
    out_content_type = query.get(OUT_CONTENT_TYPE)
    if not out_content_type or not doc.get("managed") or not _converts(api_version):
        return doc, value
    converted = formats.convert_secret_value(value, str(doc.get("contentType")),
                                             out_content_type)
    return dict(doc, contentType=out_content_type), converted
