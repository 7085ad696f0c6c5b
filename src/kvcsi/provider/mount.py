"""The mount core: a MountRequest's three JSON strings in, files and object versions out.

Upstream counterpart: ``pkg/server/server.go`` (request decoding) and
``pkg/provider/provider.go`` (``GetSecretsStoreObjectContent``), v1.8.x. No gRPC here; the
servicer in :mod:`kvcsi.provider.server` only translates.

A mount is all-or-nothing, in upstream's order: decode the request, check the parameters
(:mod:`~kvcsi.provider.params`), resolve the cloud (:mod:`~kvcsi.provider.clouds`), pick the
identity (:mod:`~kvcsi.provider.auth`), parse and validate ``objects``
(:mod:`~kvcsi.provider.objects`); an empty list succeeds with nothing; then check the vault
name and fetch every object (:mod:`~kvcsi.provider.fetch`) through a
:class:`~kvcsi.provider.keyvault.KeyVaultGateway`.

Unlike upstream, which fetches objects one after another, the objects of one mount are fetched
concurrently on a bounded, process-wide pool (``MAX_CONCURRENT_FETCHES``, or
``$KVCSI_PROVIDER_FETCH_CONCURRENCY``); files keep ``objects`` order and
the first failing object (in ``objects`` order) is the error. Warnings (unknown, deprecated or
misplaced keys; chains left in PFX order) are returned with the result, and with the error
as :attr:`MountError.warnings`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from kvcsi.provider.auth import build_auth_config
from kvcsi.provider.clouds import AZURE_PUBLIC_CLOUD, resolve_cloud, vault_url
from kvcsi.provider.content_encoding import decode_base64, decode_hex  # noqa: F401 (re-export)
from kvcsi.provider.errors import MountError
from kvcsi.provider.fetch import (
    FetchedFile,
    FetchSettings,
    FetchTarget,
    PlannedObject,
    fetch_planned,
    plan_versions,
)
from kvcsi.provider.keyvault import KeyVaultGateway
from kvcsi.provider.objects import object_warnings, parse_objects, validate_objects
from kvcsi.provider.param_warnings import parameter_warnings
from kvcsi.provider.params import parse_mount_parameters

DEFAULT_PERMISSION = 0o644
MAX_CONCURRENT_FETCHES = 64
FETCH_CONCURRENCY_ENV = "KVCSI_PROVIDER_FETCH_CONCURRENCY"


def fetch_concurrency() -> int:
    """The fetch pool size: ``$KVCSI_PROVIDER_FETCH_CONCURRENCY`` (1 = one by one, as
    upstream), else ``MAX_CONCURRENT_FETCHES``."""
    try:
        value = int(os.environ.get(FETCH_CONCURRENCY_ENV, ""))
    except ValueError:
        return MAX_CONCURRENT_FETCHES
    return max(1, value)


class MountedFile(NamedTuple):
    """One file of the volume: path relative to the volume root, mode bits, bytes."""

    path: str
    mode: int
    contents: bytes


class ObjectVersion(NamedTuple):
    """``<objectType>/<objectName>`` and the Key Vault version that was written."""

    id: str
    version: str


@dataclass(frozen=True)
class MountResult:
    files: list[MountedFile]
    object_versions: list[ObjectVersion]
    warnings: list[str] = field(default_factory=list, compare=False)


@dataclass(frozen=True)
class ProviderSettings:
    """Process-wide settings from the command line."""

    default_cloud: str = AZURE_PUBLIC_CLOUD
    construct_pem_chain: bool = True
    write_cert_and_key_in_separate_files: bool = False

    @property
    def fetch(self) -> FetchSettings:
        return FetchSettings(self.construct_pem_chain, self.write_cert_and_key_in_separate_files)


Progress = Callable[[str], None]
T = TypeVar("T")
R = TypeVar("R")

_pool_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _fetch_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=fetch_concurrency(), thread_name_prefix="kvcsi-fetch")
        return _pool


def _run_all(items: Sequence[T], work: Callable[[T], R]) -> list[R]:
    """``work`` over ``items`` on the fetch pool; results in order; the first failure raises."""
    if len(items) <= 1:
        return [work(item) for item in items]
    futures = [_fetch_pool().submit(work, item) for item in items]
    try:
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()


def _go_json_error(error: ValueError, text: str) -> str:
    if not text.strip():
        return "unexpected end of JSON input"
    return str(error)


def _decode_string_map(text: str, what: str) -> dict[str, str] | None:
    try:
        value: Any = json.loads(text)
    except ValueError as error:
        raise MountError(
            f"failed to unmarshal {what}, error: {_go_json_error(error, text)}") from None
    if value is None:
        return None
    if not isinstance(value, dict):
        kind = "array" if isinstance(value, list) else type(value).__name__
        raise MountError(f"failed to unmarshal {what}, error: json: cannot unmarshal {kind} "
                         "into Go value of type map[string]string")
    for item in value.values():
        if item is not None and not isinstance(item, str):
            kind = {bool: "bool", list: "array", dict: "object"}.get(type(item), "number")
            raise MountError(f"failed to unmarshal {what}, error: json: cannot unmarshal "
                             f"{kind} into Go value of type string")
    # A JSON null value decodes to Go's zero value, the empty string.
    return {key: item or "" for key, item in value.items()}


def _decode_permission(text: str) -> int:
    try:
        value: Any = json.loads(text)
    except ValueError as error:
        raise MountError("failed to unmarshal file permission, error: "
                         f"{_go_json_error(error, text)}") from None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise MountError("failed to unmarshal file permission, error: json: cannot unmarshal "
                         f"{text.strip()} into Go value of type fs.FileMode")
    return value


def mount(attributes_json: str, secrets_json: str = "null", permission_json: str = "420", *,
          gateway: KeyVaultGateway, settings: ProviderSettings | None = None,
          progress: Progress | None = None) -> MountResult:
    """Run one mount; raise :class:`MountError` (upstream's text) on any failure."""
    settings = settings or ProviderSettings()
    report = progress or (lambda step: None)

    attributes = _decode_string_map(attributes_json, "attributes") or {}
    secrets = _decode_string_map(secrets_json, "secrets")
    default_mode = _decode_permission(permission_json)
    warnings = parameter_warnings(attributes)
    try:
        return _mount(attributes, secrets, default_mode, warnings, gateway, settings, report)
    except MountError as error:
        error.warnings = warnings + [w for w in error.warnings if w not in warnings]
        raise


def _mount(attributes: Mapping[str, str], secrets: Mapping[str, str] | None,
           default_mode: int, warnings: list[str], gateway: KeyVaultGateway,
           settings: ProviderSettings, report: Progress) -> MountResult:
    params = parse_mount_parameters(attributes)
    report("resolving the cloud environment")
    cloud = resolve_cloud(params.cloud_name, params.cloud_env_file_name, settings.default_cloud)
    auth = build_auth_config(params, secrets)
    objects = parse_objects(params.objects)
    validate_objects(objects)  # an element without objectName names its unknown keys itself
    warnings.extend(object_warnings(objects))
    if not objects:
        return MountResult(files=[], object_versions=[], warnings=warnings)
    target = FetchTarget(vault_url(params.keyvault_name, cloud), auth, cloud)

    report(f"listing versions in {target.vault_url}")
    with_history = [obj for obj in objects if obj.object_version_history > 1]
    listed = dict(zip((obj.index for obj in with_history),
                      _run_all(with_history, lambda obj: plan_versions(obj, gateway, target)),
                      strict=True))
    plans = [listed[obj.index] if obj.index in listed else plan_versions(obj, gateway, target)
             for obj in objects]
    planned: list[PlannedObject] = []
    for versions, plan_warnings in plans:
        planned.extend(versions)
        warnings.extend(plan_warnings)

    shown = ", ".join(plan.uid for plan in planned[:5]) + (", ..." if len(planned) > 5 else "")
    report(f"fetching {shown} from {target.vault_url}")
    outcomes = _run_all(planned, lambda plan: fetch_planned(
        plan, gateway, target, settings.fetch, default_mode))
    fetched: list[FetchedFile] = []
    for outcome in outcomes:
        fetched.extend(outcome.files)
        warnings.extend(outcome.warnings)
    return MountResult(
        files=[MountedFile(f.path, f.mode, f.contents) for f in fetched],
        object_versions=[ObjectVersion(f.uid, f.version) for f in fetched],
        warnings=warnings)


def decode_request_attributes(attributes_json: str) -> Mapping[str, str]:
    """The attributes map of a request (for logging after redaction); empty if undecodable."""
    try:
        return _decode_string_map(attributes_json, "attributes") or {}
    except MountError:
        return {}
