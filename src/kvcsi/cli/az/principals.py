"""Directory lookups az makes through Graph: ``--assignee`` / ``--spn`` resolution.

Upstream counterpart: az's ``_resolve_object_id``: a name with ``@`` is a user principal
name; otherwise a service principal whose ``servicePrincipalNames`` holds the value (its
appId, i.e. client id, or another SPN); otherwise, for a GUID, the directory object with
that object id. Nothing found is az's "Cannot find user or service principal" error.
"""

from __future__ import annotations

from typing import Any

from kvcsi.cli.az.ids import GUID
from kvcsi.cli.session import AzError, Session


def resolve_assignee(session: Session, assignee: str) -> dict[str, Any]:
    """The directory object az would pick for ``--assignee``."""
    matches: list[dict[str, Any]] = []
    if "@" not in assignee:
        matches = session.graph.call(
            "GET", "/v1.0/servicePrincipals",
            params={"$filter": f"servicePrincipalNames/any(c:c eq '{assignee}')"},
        ).get("value", [])
    if not matches and GUID.match(assignee):
        matches = session.graph.call("POST", "/v1.0/directoryObjects/getByIds",
                                     body={"ids": [assignee]}).get("value", [])
    if not matches:
        raise AzError(
            "",
            f"Cannot find user or service principal in graph database for '{assignee}'. If "
            "the assignee is an appId, make sure the corresponding service principal is "
            f"created with 'az ad sp create --id {assignee}'.",
        )
    return dict(matches[0])


def display_names(session: Session, object_ids: list[str]) -> dict[str, str]:
    """``principalName`` az shows in role assignment lists: the first SPN by object id."""
    if not object_ids:
        return {}
    names: dict[str, str] = {}
    for obj in session.graph.call("POST", "/v1.0/directoryObjects/getByIds",
                                  body={"ids": object_ids}).get("value", []):
        names[obj["id"]] = (obj.get("servicePrincipalNames") or [obj.get("appId", "")])[0]
    return names
