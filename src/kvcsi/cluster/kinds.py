"""API discovery: which kinds the cluster serves, in which versions, and how they are named.

Counterpart: the API server's discovery documents and kubectl's RESTMapper. Built-in kinds
are a fixed table; custom kinds come from CustomResourceDefinitions stored in the cluster
(``spec.group``, ``spec.names``, ``spec.scope``, ``spec.versions[].served/storage/
deprecated/deprecationWarning``). A kind whose group/version is not served raises
:class:`~kvcsi.cluster.errors.NoKindMatch`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kvcsi.cluster.errors import NoKindMatch

CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"


@dataclass(frozen=True)
class KindInfo:
    """One kind served in one group/version."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    status_subresource: bool = False
    storage_version: str = ""
    deprecated: bool = False
    deprecation_warning: str | None = None
    categories: tuple[str, ...] = field(default=())

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_api_version(self) -> str:
        version = self.storage_version or self.version
        return f"{self.group}/{version}" if self.group else version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def resource_ref(self) -> str:
        """How API errors name the resource: ``pods``, ``daemonsets.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kubectl_type(self) -> str:
        """How kubectl names the type in output lines: ``pod``, ``daemonset.apps``."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    @property
    def is_crd(self) -> bool:
        return self.group == CRD_GROUP and self.kind == CRD_KIND


def _k(
    api_version: str,
    kind: str,
    plural: str,
    namespaced: bool,
    short: tuple[str, ...] = (),
    status: bool = False,
) -> KindInfo:
    group, _, version = api_version.rpartition("/")
    return KindInfo(group, version, kind, plural, namespaced, short, status)


BUILTIN_KINDS: tuple[KindInfo, ...] = (
    _k("v1", "Pod", "pods", True, ("po",), status=True),
    _k("v1", "Secret", "secrets", True),
    _k("v1", "ConfigMap", "configmaps", True, ("cm",)),
    _k("v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    _k("v1", "Service", "services", True, ("svc",), status=True),
    _k("v1", "Namespace", "namespaces", False, ("ns",), status=True),
    _k("v1", "Event", "events", True, ("ev",)),
    _k("v1", "Node", "nodes", False, ("no",), status=True),
    _k("apps/v1", "DaemonSet", "daemonsets", True, ("ds",), status=True),
    _k("apps/v1", "Deployment", "deployments", True, ("deploy",), status=True),
    _k("apps/v1", "ReplicaSet", "replicasets", True, ("rs",), status=True),
    _k("apps/v1", "StatefulSet", "statefulsets", True, ("sts",), status=True),
    _k("batch/v1", "Job", "jobs", True, (), status=True),
    _k("storage.k8s.io/v1", "CSIDriver", "csidrivers", False),
    _k("storage.k8s.io/v1", "CSINode", "csinodes", False),
    _k("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    _k("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _k("rbac.authorization.k8s.io/v1", "Role", "roles", True),
    _k("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", True),
    _k(f"{CRD_GROUP}/v1", CRD_KIND, "customresourcedefinitions", False, ("crd", "crds"), True),
    _k("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), True),
    _k("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", False, ("pc",)),
    _k("coordination.k8s.io/v1", "Lease", "leases", True),
)

NAMESPACE_KIND = BUILTIN_KINDS[5]
SERVICE_ACCOUNT_KIND = BUILTIN_KINDS[3]
EVENT_KIND = BUILTIN_KINDS[6]


def crd_kinds(crd: dict[str, Any]) -> list[KindInfo]:
    """The kinds one CustomResourceDefinition serves (one entry per served version)."""
    spec = crd.get("spec") or {}
    group = spec.get("group", "")
    names = spec.get("names") or {}
    versions = spec.get("versions") or []
    storage = next((v.get("name", "") for v in versions if v.get("storage")), "")
    served: list[KindInfo] = []
    for version in versions:
        if not version.get("served"):
            continue
        name = version.get("name", "")
        deprecated = bool(version.get("deprecated"))
        warning = version.get("deprecationWarning")
        if deprecated and not warning:
            warning = f"{group}/{name} {names.get('kind', '')} is deprecated"
        served.append(
            KindInfo(
                group=group,
                version=name,
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                status_subresource="status" in (version.get("subresources") or {}),
                storage_version=storage,
                deprecated=deprecated,
                deprecation_warning=warning if deprecated else None,
                categories=tuple(names.get("categories") or ()),
            )
        )
    return served


def served_kinds(crds: Iterable[dict[str, Any]]) -> list[KindInfo]:
    """Every kind the cluster serves: built-ins, then those of the stored CRDs."""
    kinds = list(BUILTIN_KINDS)
    for crd in crds:
        kinds.extend(crd_kinds(crd))
    return kinds


def resolve(api_version: str, kind: str, crds: Iterable[dict[str, Any]]) -> KindInfo:
    """The served kind for ``apiVersion`` + ``kind``, or :class:`NoKindMatch`."""
    for info in served_kinds(crds):
        if info.api_version == api_version and info.kind == kind:
            return info
    raise NoKindMatch(kind, api_version)


def find_resource(name: str, crds: Iterable[dict[str, Any]]) -> list[KindInfo]:
    """Kinds a kubectl resource argument may mean (``pods``, ``po``, ``pod``,
    ``secretproviderclasses``, ``daemonsets.apps``), preferred version first."""
    wanted = name.lower()
    resource, _, group = wanted.partition(".")
    matches: list[KindInfo] = []
    for info in served_kinds(crds):
        if group and info.group != group and not info.group.startswith(group):
            continue
        if resource in (info.plural, info.singular, *info.short_names):
            matches.append(info)
    matches.sort(key=lambda info: info.version != (info.storage_version or info.version))
    return matches
