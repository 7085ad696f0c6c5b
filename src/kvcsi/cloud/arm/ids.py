"""ARM resource ids: building them, keying them in the store, and scope containment.

ARM ids are case-insensitive. The store keys ``arm`` documents by the lower-cased id while
the document keeps the id in the case it was created with. A scope contains a resource when
the scope's segments are a case-insensitive prefix of the resource's segments (so
``/subscriptions/s/resourceGroups/rg`` contains ``.../resourceGroups/rg/providers/...`` but not
``.../resourceGroups/rg2``).
"""

from __future__ import annotations

from dataclasses import dataclass

AUTHORIZATION = "Microsoft.Authorization"
ROLE_ASSIGNMENTS_SUFFIX = "/providers/microsoft.authorization/roleassignments"
ROLE_DEFINITIONS_SUFFIX = "/providers/microsoft.authorization/roledefinitions"


def key(resource_id: str) -> str:
    """The store key of an ARM id: lower-cased, no trailing slash."""
    return resource_id.rstrip("/").lower()


def subscription_id_of(subscription_id: str) -> str:
    return f"/subscriptions/{subscription_id}"


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def resource_id(subscription_id: str, resource_group: str, provider_type: str,
                name: str) -> str:
    """``provider_type`` is ``Namespace/type`` (e.g. ``Microsoft.KeyVault/vaults``)."""
    return f"{resource_group_id(subscription_id, resource_group)}/providers/{provider_type}/{name}"


def segments(resource_id: str) -> list[str]:
    return [part for part in resource_id.split("/") if part]


def scope_contains(scope: str, resource_id: str) -> bool:
    """True when ``scope`` is ``resource_id`` or one of its ancestors (segment-wise)."""
    scope_parts = [part.lower() for part in segments(scope)]
    resource_parts = [part.lower() for part in segments(resource_id)]
    return resource_parts[: len(scope_parts)] == scope_parts


def ancestor_scopes(resource_id: str) -> list[str]:
    """Every scope that can hold an assignment applying to ``resource_id``, lower-cased.

    ``/`` first, then ``/subscriptions/s``, ``.../resourceGroups/rg`` and each deeper id that
    ends on a name segment (a ``providers/Namespace`` pair is not a scope on its own).
    """
    parts = [part.lower() for part in segments(resource_id)]
    scopes = ["/"]
    index = 0
    while index < len(parts):
        if parts[index] == "providers":
            index += 4  # providers / Namespace / type / name: the name closes the scope
        else:
            index += 2
        if index <= len(parts):
            scopes.append("/" + "/".join(parts[:index]))
    return scopes


@dataclass(frozen=True)
class ResourceRef:
    """The parts of a resource id under a resource group."""

    subscription_id: str
    resource_group: str
    namespace: str
    resource_type: str
    name: str

    @property
    def provider_type(self) -> str:
        return f"{self.namespace}/{self.resource_type}"


def parse_resource(resource_id: str) -> ResourceRef | None:
    """``/subscriptions/s/resourceGroups/rg/providers/Ns/type/name`` → parts, else None."""
    parts = segments(resource_id)
    if (len(parts) < 8 or parts[0].lower() != "subscriptions"
            or parts[2].lower() != "resourcegroups" or parts[4].lower() != "providers"):
        return None
    return ResourceRef(parts[1], parts[3], parts[5], parts[6], parts[7])


def resource_group_of(resource_id: str) -> str | None:
    """The resource group id (original case) of an id under a resource group."""
    parts = segments(resource_id)
    if len(parts) >= 4 and parts[0].lower() == "subscriptions" \
            and parts[2].lower() == "resourcegroups":
        return "/" + "/".join(parts[:4])
    return None


def subscription_of(resource_id: str) -> str | None:
    """The subscription GUID an id lives under, or None."""
    parts = segments(resource_id)
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return None
