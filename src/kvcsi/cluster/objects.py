"""What the API server does to an object's body before storing it: defaulting, name
validation, initial status, apply merging, status patches, generation, the Pod update and
graceful deletion rules.

Counterparts: apiserver registry strategies (``PrepareForCreate``/``PrepareForUpdate``),
``ValidateObjectMeta`` and the core Pod update validation. Pure functions over dicts.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

from kvcsi.cluster.kinds import KindInfo

SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation")
# Top-level fields that are not the object's desired state (changing them keeps generation).
NOT_SPEC = {"apiVersion", "kind", "metadata", "status"}

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SUBDOMAIN_TEXT = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_TEXT = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
POD_UPDATE_FORBIDDEN = (
    "spec: Forbidden: pod updates may not change fields other than "
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
    "negative)"
)


def now_rfc3339() -> str:
    """Kubernetes ``metav1.Time`` text: UTC, seconds precision."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_causes(info: KindInfo, name: str) -> list[str]:
    """Validation causes for ``metadata.name`` (empty list when valid)."""
    if info.kind == "Namespace":
        if len(name) > 63 or not _LABEL.match(name):
            return [f'metadata.name: Invalid value: "{name}": {_LABEL_TEXT}']
        return []
    if len(name) > 253 or not _SUBDOMAIN.match(name):
        return [f'metadata.name: Invalid value: "{name}": {_SUBDOMAIN_TEXT}']
    return []


def with_defaults(info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """The fields the API server defaults (idempotent, so apply can compare results)."""
    if info.group == "" and info.kind == "Pod":
        spec = obj.setdefault("spec", {})
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
    if info.group == "" and info.kind == "Secret":
        obj.setdefault("type", "Opaque")
    return obj


def desired_state(obj: dict[str, Any]) -> dict[str, Any]:
    """The part of an object that ``generation`` tracks."""
    return {key: value for key, value in obj.items() if key not in NOT_SPEC}


def applied_body(info: KindInfo, existing: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """The stored object after applying ``obj`` over ``existing``: desired state, labels and
    annotations come from ``obj``; uid, creationTimestamp, owners and (for kinds with a status
    subresource) status stay."""
    merged: dict[str, Any] = {"apiVersion": existing["apiVersion"], "kind": existing["kind"]}
    merged["metadata"] = copy.deepcopy(existing["metadata"])
    for key in ("labels", "annotations"):
        if obj.get("metadata", {}).get(key):
            merged["metadata"][key] = copy.deepcopy(obj["metadata"][key])
        else:
            merged["metadata"].pop(key, None)
    if obj.get("metadata", {}).get("ownerReferences") is not None:
        merged["metadata"]["ownerReferences"] = copy.deepcopy(obj["metadata"]["ownerReferences"])
    merged.update(copy.deepcopy(desired_state(obj)))
    if info.group == "" and info.kind == "Pod":
        # Set by the scheduler, not by the applier: a 3-way apply keeps it.
        node = (existing.get("spec") or {}).get("nodeName")
        if node and not (obj.get("spec") or {}).get("nodeName"):
            merged.setdefault("spec", {})["nodeName"] = node
    if info.status_subresource or "status" not in obj:
        if "status" in existing:
            merged["status"] = copy.deepcopy(existing["status"])
    else:
        merged["status"] = copy.deepcopy(obj["status"])
    return with_defaults(info, merged)


def pod_update_causes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The Pod rule: after creation only container images (and a few fields) may change."""
    old_spec = copy.deepcopy(old.get("spec") or {})
    new_spec = copy.deepcopy(new.get("spec") or {})
    for spec in (old_spec, new_spec):
        spec.pop("activeDeadlineSeconds", None)
        spec.pop("tolerations", None)
        spec.pop("nodeName", None)
        for key in ("containers", "initContainers"):
            for container in spec.get(key) or []:
                container.pop("image", None)
    if old.get("spec", {}).get("nodeName") and old["spec"]["nodeName"] != new.get(
        "spec", {}
    ).get("nodeName", old["spec"]["nodeName"]):
        return [POD_UPDATE_FORBIDDEN]
    return [] if old_spec == new_spec else [POD_UPDATE_FORBIDDEN]


def owner_uids(obj: dict[str, Any]) -> set[str]:
    return {ref.get("uid", "") for ref in obj.get("metadata", {}).get("ownerReferences") or []}


def selector_matches(labels: dict[str, str], selector: dict[str, str] | str | None) -> bool:
    """Equality-based label selectors: a dict, or ``a=b,c!=d,e,!f`` text."""
    if not selector:
        return True
    if isinstance(selector, dict):
        return all(labels.get(key) == value for key, value in selector.items())
    for term in (part.strip() for part in selector.split(",")):
        if not term:
            continue
        if "!=" in term:
            key, value = (side.strip() for side in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (side.strip() for side in term.replace("==", "=", 1).split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def deletes_gracefully(info: KindInfo, row: dict, grace_period_seconds: int | None) -> bool:
    if not (info.group == "" and info.kind == "Pod") or grace_period_seconds == 0:
        return False
    return bool((row.get("spec") or {}).get("nodeName"))


def initial_status(info: KindInfo, body: dict) -> dict:
    if info.group == "" and info.kind == "Pod":
        return {"status": {"phase": "Pending", "qosClass": "BestEffort"}}
    if info.group == "" and info.kind == "Namespace":
        return {"status": {"phase": "Active"}}
    if info.is_crd:
        names = dict((body.get("spec") or {}).get("names") or {})
        names.setdefault("singular", names.get("kind", "").lower())
        names.setdefault("listKind", f"{names.get('kind', '')}List")
        stamp = now_rfc3339()
        return {"status": {
            "acceptedNames": names,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": stamp},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": stamp},
            ],
            "storedVersions": [v["name"] for v in (body.get("spec") or {}).get("versions") or []
                               if v.get("storage")],
        }}
    return {}


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
