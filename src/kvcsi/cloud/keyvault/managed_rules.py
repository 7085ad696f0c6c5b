"""The certificates module's rules for certificate-backed (``managed``) secrets and keys, as
the secrets and keys routes apply them: no direct set/import/create/delete (403), and
``outContentType`` conversion on GET secret. They live in ``certificates_managed``; while
that module is absent these are no-ops.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from kvcsi.cloud.keyvault.objects import Document, VersionedObjects

RULES_MODULE = "kvcsi.cloud.keyvault.certificates_managed"


def _rules() -> ModuleType | None:
    try:
        return importlib.import_module(RULES_MODULE)
    except ImportError as error:
        if error.name != RULES_MODULE:
            raise
        return None


_RULES = _rules()


def refuse_managed_secret(objects: VersionedObjects, vault: str, name: str,
                          operation: str) -> None:
    if _RULES is not None:
        _RULES.refuse_managed_secret(objects, vault, name, operation)


def refuse_managed_key(objects: VersionedObjects, vault: str, name: str,
                       operation: str) -> None:
    if _RULES is not None:
        _RULES.refuse_managed_key(objects, vault, name, operation)


def converted_secret(doc: Document, value: str, query: Any,
                     api_version: str) -> tuple[Document, str]:
    """The document and value GET secret answers with (``outContentType`` applied)."""
    if _RULES is None or not doc.get("managed"):
        return doc, value
    return _RULES.converted_secret(doc, value, query, api_version)
