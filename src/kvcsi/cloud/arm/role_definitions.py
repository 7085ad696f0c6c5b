"""Role definitions: the built-in roles stored under each subscription, read by id or name.

Upstream counterpart: Microsoft.Authorization ``roleDefinitions``
(``az role definition list --name``). Documents are ``arm`` documents keyed
``/subscriptions/{s}/providers/microsoft.authorization/roledefinitions/{guid}`` whose parent is
that collection.
"""

from __future__ import annotations

import re
from typing import Any

from kvcsi.cloud.arm import errors, ids, roles
from kvcsi.cloud.store import CloudStore

_ROLE_DEFINITION_ID = re.compile(
    r"^(?:/subscriptions/(?P<sub>[^/]+))?/providers/Microsoft\.Authorization/roleDefinitions/"
    r"(?P<guid>[0-9a-fA-F-]{36})$", re.IGNORECASE)


def collection(subscription_id: str) -> str:
    return ids.key(ids.subscription_id_of(subscription_id)) + ids.ROLE_DEFINITIONS_SUFFIX


def store_built_in_roles(store: CloudStore, subscription_id: str) -> None:
    with store.transaction():
        for role in roles.BUILT_IN_ROLES:
            document = roles.role_definition_document(role, subscription_id)
            store.put("arm", ids.key(document["id"]), document,
                      parent=collection(subscription_id))


def parse_id(role_definition_id: str) -> tuple[str | None, str]:
    """``(subscription or None, guid)`` of a role definition id, or ``InvalidRoleDefinitionId``."""
    match = _ROLE_DEFINITION_ID.match(role_definition_id or "")
    if match is None:
        raise errors.invalid_role_definition_id(role_definition_id)
    return match.group("sub"), match.group("guid").lower()


def get(store: CloudStore, subscription_id: str, guid: str, status: int = 404
        ) -> dict[str, Any]:
    """The role definition with ``guid`` as seen from the subscription."""
    found = store.get("arm", f"{collection(subscription_id)}/{guid.lower()}")
    if found is None:
        role = roles.built_in_role(guid)
        if role is None:
            raise errors.role_definition_does_not_exist(guid, status)
        found = roles.role_definition_document(role, subscription_id)
    return found


def list_definitions(store: CloudStore, subscription_id: str,
                     role_name: str | None = None,
                     role_type: str | None = None) -> list[dict[str, Any]]:
    found = store.children("arm", collection(subscription_id)) or [
        roles.role_definition_document(role, subscription_id) for role in roles.BUILT_IN_ROLES]
    if role_name is not None:
        found = [d for d in found if d["properties"]["roleName"].lower() == role_name.lower()]
    if role_type is not None:
        found = [d for d in found if d["properties"]["type"].lower() == role_type.lower()]
    return found
