"""Manifests: load multi-document YAML and apply it the way ``kubectl apply -f`` does.

Counterpart: kubectl's resource builder and ``apply`` command. Each document is applied on
its own; successes print ``<type>/<name> created|configured|unchanged`` in order, warnings
(deprecated API versions) print once, and errors are collected and reported after the
others, with a non-zero exit status. Error texts are kubectl's (``resource mapping not
found ...\\nensure CRDs are installed first``, ``Error from server (NotFound): error when
creating "pod.yaml": namespaces "x" not found``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kvcsi.cluster.bundled import known_manifest
from kvcsi.cluster.errors import ClusterError, NoKindMatch, NotFound
from kvcsi.cluster.store import ClusterStore

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class ManifestError(Exception):
    """A ``-f`` source that cannot be read or parsed (kubectl stops before applying)."""

    def kubectl_text(self) -> str:
        return f"error: {self}"


@dataclass(frozen=True)
class Document:
    """One object from a manifest, with the ``-f`` source it came from."""

    obj: dict[str, Any]
    source: str


@dataclass(frozen=True)
class Applied:
    type_name: str
    name: str
    action: str
    obj: dict[str, Any]

    @property
    def line(self) -> str:
        return f"{self.type_name}/{self.name} {self.action}"


@dataclass(frozen=True)
class ApplyError:
    """One failed document; ``prefixed`` errors get kubectl's ``error: `` when alone."""

    text: str
    source: str
    prefixed: bool = False


@dataclass
class ApplyResult:
    applied: list[Applied] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[ApplyError] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [item.line for item in self.applied]

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def stdout_text(self) -> str:
        return "".join(f"{line}\n" for line in self.lines)

    def stderr_text(self) -> str:
        text = "".join(f"Warning: {warning}\n" for warning in self.warnings)
        if len(self.errors) == 1:
            only = self.errors[0]
            text += ("error: " if only.prefixed else "") + only.text + "\n"
        else:
            text += "".join(f"{error.text}\n" for error in self.errors)
        return text


class _KubeYamlLoader(yaml.SafeLoader):
    """YAML as Kubernetes reads it: dates and times stay strings."""


_KubeYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_documents(text: str, source: str) -> list[Document]:
    """The objects in a multi-document YAML (or JSON) text; empty documents are skipped and
    ``List`` kinds are flattened into their items."""
    try:
        loaded = list(yaml.load_all(text, Loader=_KubeYamlLoader))
    except yaml.YAMLError as exc:
        raise ManifestError(
            f"error parsing {source}: error converting YAML to JSON: yaml: {exc}"
        ) from None
    documents: list[Document] = []
    for item in loaded:
        if item is None or item == {}:
            continue
        if not isinstance(item, dict):
            raise ManifestError(
                f'unable to decode "{source}": json: cannot unmarshal '
                f"{type(item).__name__} into Go value of type map[string]interface {{}}"
            )
        if str(item.get("kind", "")).endswith("List") and isinstance(item.get("items"), list):
            documents.extend(Document(obj, source) for obj in item["items"] if obj)
        else:
            documents.append(Document(item, source))
    return documents


def load_file(source: str | Path) -> list[Document]:
    """Documents of one ``-f`` argument: a file, a directory (its .yaml/.yml/.json files in
    name order) or one of the known upstream URLs (read from the packaged copy)."""
    text_source = str(source)
    if text_source.startswith(("http://", "https://")):
        bundled = known_manifest(text_source)
        if bundled is None:
            raise ManifestError(
                f'unable to read URL "{text_source}": kvcsi works offline and only knows the '
                "upstream install manifests of the Secrets Store CSI driver and its Azure "
                "provider; download the file and apply it by path"
            )
        return load_documents(bundled.read_text(), text_source)
    path = Path(text_source)
    if path.is_dir():
        documents: list[Document] = []
        for child in sorted(path.iterdir()):
            if child.is_file() and child.suffix in MANIFEST_SUFFIXES:
                documents.extend(load_documents(child.read_text(), str(child)))
        return documents
    if not path.exists():
        raise ManifestError(f'the path "{text_source}" does not exist')
    return load_documents(path.read_text(), text_source)


def apply_sources(
    store: ClusterStore, sources: list[str], namespace: str | None = None
) -> ApplyResult:
    """``kubectl apply -f A -f B``: load every source first, then apply in order."""
    documents: list[Document] = []
    for source in sources:
        documents.extend(load_file(source))
    return apply_documents(store, documents, namespace)


def apply_documents(
    store: ClusterStore, documents: list[Document], namespace: str | None = None
) -> ApplyResult:
    """Apply each document independently; ``namespace`` is kubectl's ``-n``."""
    result = ApplyResult()
    for document in documents:
        _apply_one(store, document, namespace, result)
    return result


def _apply_one(
    store: ClusterStore, document: Document, namespace: str | None, result: ApplyResult
) -> None:
    obj = document.obj
    missing = [key for key in ("apiVersion", "kind") if not obj.get(key)]
    if missing:
        listed = missing[0] if len(missing) == 1 else "[" + ", ".join(missing) + "]"
        listed = listed.replace("apiVersion", "apiVersion not set").replace("kind", "kind not set")
        result.errors.append(ApplyError(
            f'error validating "{document.source}": error validating data: {listed}; if you '
            "choose to ignore these errors, turn validation off with --validate=false",
            document.source, prefixed=True,
        ))
        return
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name") or "")
    doc_namespace = str(metadata.get("namespace") or "")
    try:
        info = store.resolve_kind(obj["apiVersion"], obj["kind"])
    except NoKindMatch as exc:
        result.errors.append(ApplyError(
            exc.mapping_text(name, doc_namespace, document.source), document.source,
            prefixed=True,
        ))
        return
    if info.deprecation_warning and info.deprecation_warning not in result.warnings:
        result.warnings.append(info.deprecation_warning)
    target = copy.deepcopy(obj)
    target_namespace = ""
    if info.namespaced:
        if namespace and doc_namespace and doc_namespace != namespace:
            result.errors.append(ApplyError(
                f'the namespace from the provided object "{doc_namespace}" does not match the '
                f'namespace "{namespace}". You must pass \'--namespace={doc_namespace}\' to '
                "perform this operation.", document.source, prefixed=True,
            ))
            return
        target_namespace = doc_namespace or namespace or "default"
        target.setdefault("metadata", {})["namespace"] = target_namespace
    if not name:
        group_version = f"{info.group}/{info.version}"
        result.errors.append(ApplyError(
            "error when retrieving current configuration of:\n"
            f'Resource: "{group_version}, Resource={info.plural}", '
            f'GroupVersionKind: "{group_version}, Kind={info.kind}"\n'
            f'Name: "", Namespace: "{target_namespace}"\n'
            f'from server for: "{document.source}": resource name may not be empty',
            document.source, prefixed=True,
        ))
        return
    operation = "patching"
    try:
        store.get(obj["apiVersion"], obj["kind"], target_namespace or None, name)
    except NotFound:
        operation = "creating"
    try:
        stored, action = store.apply(target)
    except NoKindMatch as exc:
        result.errors.append(ApplyError(
            exc.mapping_text(name, doc_namespace, document.source), document.source, True
        ))
        return
    except ClusterError as exc:
        result.errors.append(ApplyError(exc.kubectl_text(document.source, operation),
                                        document.source))
        return
    result.applied.append(Applied(info.kubectl_type, name, action, stored))
