"""On-demand refresh: an annotation that makes the next republish fetch, interval or not.

No upstream counterpart (issue #2061 asks for a "force sync"). Setting
``secrets-store.csi.x-k8s.io/refresh=<any new value>`` on a Pod refreshes that pod's volumes;
on a SecretProviderClass it refreshes every volume using it. The token is the pair of
values; a volume remembers the token it last fetched with, so each new value triggers one
fetch::

    kvcsi kubectl annotate --overwrite pod mypod secrets-store.csi.x-k8s.io/refresh=$(date +%s)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REFRESH_ANNOTATION = "secrets-store.csi.x-k8s.io/refresh"


def annotation_of(obj: Mapping[str, Any] | None) -> str:
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(REFRESH_ANNOTATION, ""))


def refresh_token(pod: Mapping[str, Any] | None, spc: Mapping[str, Any] | None) -> str:
    """``""`` when neither object asks for a refresh, else both values joined."""
    pod_value, spc_value = annotation_of(pod), annotation_of(spc)
    if not pod_value and not spc_value:
        return ""
    return f"pod={pod_value};spc={spc_value}"

