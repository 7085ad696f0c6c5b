"""ARM resource ids and the views az prints of ARM resources.

Building and taking apart ``/subscriptions/.../providers/...`` paths; ``flatten`` for the
resource types whose SDK models flatten ``properties`` (managed clusters, agent pools, scale
sets, identities, role assignments and definitions, federated credentials) and
``with_resource_group`` for the ones that keep it (resource groups, vaults): az adds
``resourceGroup`` to every resource it prints that lives in one.
"""

from __future__ import annotations

import re
from typing import Any

_RG = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def provider_id(subscription_id: str, resource_group: str, provider_type: str, name: str) -> str:
    return f"{resource_group_id(subscription_id, resource_group)}/providers/{provider_type}/{name}"


def resource_group_of(resource_id: str) -> str | None:
    match = _RG.search(resource_id)
    return match.group(1) if match else None


def name_of(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def with_resource_group(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as az prints it when its model keeps ``properties`` nested."""
    view = dict(resource)
    group = resource_group_of(str(resource.get("id", "")))
    if group is not None:
        view.setdefault("resourceGroup", group)
    return view


def flatten(resource: dict[str, Any], renames: dict[str, str] | None = None) -> dict[str, Any]:
    """az's view of SDK models that flatten ``properties``.

    ``renames`` maps property names the model renames because they clash with a top-level
    field (role definitions: ``type`` → ``roleType``; agent pools: ``type`` →
    ``typePropertiesType``).
    """
    flat = {key: value for key, value in resource.items() if key != "properties"}
    for key, value in (resource.get("properties") or {}).items():
        flat[(renames or {}).get(key, key)] = value
    return with_resource_group(flat)


def parse_tags(tags: list[str] | None) -> dict[str, str] | None:
    """``--tags a=b c`` → ``{"a": "b", "c": ""}`` (az's tag syntax)."""
    if tags is None:
        return None
    parsed: dict[str, str] = {}
    for tag in tags:
        key, _, value = tag.partition("=")
        if key:
            parsed[key] = value
    return parsed
