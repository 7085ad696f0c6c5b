"""Fetch one object and turn it into its files (upstream ``getKeyVaultObjectContent``).

Upstream counterpart: the per-object half of ``pkg/provider/provider.go``: version history
expansion, ``getSecret`` / ``getKey`` / ``getCertificate``, content conversion and
``objectEncoding``. Everything here runs on the mount's fetch pool; the results are put back
in ``objects`` order by :mod:`kvcsi.provider.mount`.

Version history (``objectVersionHistory: N`` with N > 1): the versions are listed, disabled
ones skipped, sorted newest first (by ``created``; equal times by listing position, the later
listed first); the first is ``objectVersion`` when set (``latest`` or empty = the newest);
then **at most N**
versions become files ``<file>/0`` (the starting one) … ``<file>/<N-1>`` with ids
``<type>/<name>/<i>``. Upstream returns N+1 files when more than N versions exist; kvcsi
returns N, as its documentation promises. A starting version that is not listed yields no
file, as upstream, and a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kvcsi.provider.auth import AuthConfig
from kvcsi.provider.clouds import CloudEnvironment
from kvcsi.provider.content_encoding import encode_content
from kvcsi.provider.errors import MountError
from kvcsi.provider.formats import (
    CONTENT_TYPE_PEM,
    CONTENT_TYPE_PKCS12,
    FormatError,
    certificate_pem,
    pkcs12_to_pem,
    public_key_pem,
    split_certificate_and_key,
)
from kvcsi.provider.keyvault import KeyVaultFetchError, KeyVaultGateway, SecretBundle
from kvcsi.provider.objects import (
    OBJECT_TYPE_CERT,
    OBJECT_TYPE_KEY,
    KeyVaultObject,
    parse_file_permission,
)

LATEST = "latest"


@dataclass(frozen=True)
class FetchSettings:
    construct_pem_chain: bool = True
    write_cert_and_key_in_separate_files: bool = False


@dataclass(frozen=True)
class FetchTarget:
    """Where and as whom to fetch."""

    vault_url: str
    auth: AuthConfig
    cloud: CloudEnvironment


@dataclass(frozen=True)
class PlannedObject:
    """One object version to write: the object, its file name, id and the version to get."""

    obj: KeyVaultObject
    file_name: str
    uid: str
    version: str


@dataclass(frozen=True)
class FetchedFile:
    path: str
    mode: int
    contents: bytes
    uid: str
    version: str


@dataclass(frozen=True)
class FetchOutcome:
    files: list[FetchedFile]
    warnings: list[str]


def plan_versions(obj: KeyVaultObject, gateway: KeyVaultGateway,
                  target: FetchTarget) -> tuple[list[PlannedObject], list[str]]:
    """The object versions one element stands for (one, or up to N in history mode)."""
    if obj.object_version_history <= 1:
        return [PlannedObject(obj, obj.file_name, obj.uid, obj.object_version)], []
    try:
        items = gateway.list_versions(target.vault_url, target.auth, target.cloud, obj.kind,
                                      obj.object_name)
    except KeyVaultFetchError as error:
        raise MountError(f"{obj.describe()}: failed to list versions: {error}") from None
    enabled = [item for item in items if item.enabled is not False]
    ordered = sorted(enumerate(enabled), key=lambda pair: (-(pair[1].created or 0.0),
                                                           -pair[0]))
    versions = [item.version for _, item in ordered]
    start = 0
    if obj.object_version and obj.object_version != LATEST:
        if obj.object_version not in versions:
            return [], [f"objects element {obj.index}: version {obj.object_version} of "
                        f"{obj.kind} {obj.object_name} is not among its enabled versions; "
                        "no file written"]
        start = versions.index(obj.object_version)
    chosen = versions[start:start + obj.object_version_history]
    return [PlannedObject(obj, f"{obj.file_name}/{i}", f"{obj.uid}/{i}", version)
            for i, version in enumerate(chosen)], []


def _secret_text(obj: KeyVaultObject, bundle: SecretBundle,
                 settings: FetchSettings) -> tuple[str | bytes, list[str]]:
    """A secret's content before ``objectEncoding`` (str) or final PEM bytes (converted)."""
    if not bundle.certificate_backed:
        return bundle.value, []
    content_type = bundle.content_type or ""
    if content_type == CONTENT_TYPE_PEM:
        if obj.wants_pfx:
            raise MountError(f"{obj.describe()}: objectFormat pfx needs a certificate stored "
                             f"as {CONTENT_TYPE_PKCS12}, but {obj.object_name} has content "
                             f"type {CONTENT_TYPE_PEM}")
        return bundle.value, []
    if content_type == CONTENT_TYPE_PKCS12:
        if obj.wants_pfx:
            return bundle.value, []
        try:
            converted = pkcs12_to_pem(bundle.value, settings.construct_pem_chain)
        except FormatError as error:
            raise MountError(f"{obj.describe()}: {error}") from None
        warnings = []
        if converted.chain_problem:
            warnings.append(f"{obj.kind} {obj.object_name}: {converted.chain_problem}; "
                            "certificates kept in PFX order")
        return converted.pem, warnings
    raise MountError(f"{obj.describe()}: failed to get certificate. "
                     f"unknown content type '{content_type}'")


def _encoded(obj: KeyVaultObject, content: str | bytes) -> bytes:
    if isinstance(content, bytes):
        return content
    try:
        return encode_content(content, obj.encoding)
    except ValueError as error:
        # Upstream returns these decode errors without the per-object prefix.
        raise MountError(str(error)) from None


def fetch_planned(planned: PlannedObject, gateway: KeyVaultGateway, target: FetchTarget,
                  settings: FetchSettings, default_mode: int) -> FetchOutcome:
    """Fetch one object version and build its file(s)."""
    obj = planned.obj
    mode = parse_file_permission(obj.file_permission) if obj.file_permission else default_mode
    args = (target.vault_url, target.auth, target.cloud, obj.object_name, planned.version)
    warnings: list[str] = []
    certificate_backed = False
    try:
        if obj.kind == OBJECT_TYPE_CERT:
            certificate = gateway.get_certificate(*args)
            contents, version = certificate_pem(certificate.cer), certificate.version
        elif obj.kind == OBJECT_TYPE_KEY:
            key = gateway.get_key(*args)
            contents, version = public_key_pem(key.key), key.version
        else:
            secret = gateway.get_secret(*args)
            certificate_backed = secret.certificate_backed
            content, warnings = _secret_text(obj, secret, settings)
            contents, version = _encoded(obj, content), secret.version
    except (KeyVaultFetchError, FormatError) as error:
        raise MountError(f"{obj.describe()}: {error}") from None
    main = FetchedFile(planned.file_name, mode, contents, planned.uid, version)
    if not (settings.write_cert_and_key_in_separate_files and certificate_backed):
        return FetchOutcome([main], warnings)
    certificates, keys = (b"", b"") if obj.wants_pfx else split_certificate_and_key(contents)
    return FetchOutcome([replace(main, path=f"{main.path}.crt", contents=certificates),
                         replace(main, path=f"{main.path}.key", contents=keys), main], warnings)
