"""ARM resource ids: building and taking apart ``/subscriptions/.../providers/...`` paths."""

from __future__ import annotations

import re

_RG = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def provider_id(subscription_id: str, resource_group: str, provider_type: str, name: str) -> str:
    return f"{resource_group_id(subscription_id, resource_group)}/providers/{provider_type}/{name}"


def resource_group_of(resource_id: str) -> str | None:
    match = _RG.search(resource_id)
    return match.group(1) if match else None


def flatten(resource: dict) -> dict:
    """az's view of SDK models that flatten ``properties`` (managed clusters, assignments)."""
    flat = {key: value for key, value in resource.items() if key != "properties"}
    flat.update(resource.get("properties") or {})
    group = resource_group_of(str(resource.get("id", "")))
    if group is not None:
        flat.setdefault("resourceGroup", group)
    return flat
