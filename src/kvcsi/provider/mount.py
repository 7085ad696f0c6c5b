"""The mount core: a MountRequest's three JSON strings in, files and object versions out.

Upstream counterpart: ``pkg/server/server.go`` (request decoding) and
``pkg/provider/provider.go`` (``GetSecretsStoreObjectContent``), v1.8.x. No gRPC here; the
servicer in :mod:`kvcsi.provider.server` only translates.

A mount is all-or-nothing, in upstream's order: decode the request, check the parameters
(:mod:`~kvcsi.provider.params`), resolve the cloud (:mod:`~kvcsi.provider.clouds`), pick the
identity (:mod:`~kvcsi.provider.auth`), parse and validate ``objects``
(:mod:`~kvcsi.provider.objects`); an empty list succeeds with nothing; then check the vault
name and fetch every object through a :class:`~kvcsi.provider.keyvault.KeyVaultGateway`.
Nothing is cached between mounts except credentials and clients inside the gateway.

Supported now: ``objectType: secret`` (plain secrets, PEM-backed certificate secrets, and
PKCS#12-backed ones with ``objectFormat: pfx``), ``objectEncoding``, ``filePermission``.
``key``, ``cert``, PKCS#12→PEM conversion and version history fail with a clear
"not supported by kvcsi yet" error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from kvcsi.provider.auth import AuthConfig, build_auth_config
from kvcsi.provider.clouds import AZURE_PUBLIC_CLOUD, CloudEnvironment, resolve_cloud, vault_url
from kvcsi.provider.errors import MountError
from kvcsi.provider.keyvault import KeyVaultFetchError, KeyVaultGateway, SecretBundle
from kvcsi.provider.objects import (
    ENCODING_BASE64,
    ENCODING_HEX,
    FORMAT_PFX,
    OBJECT_TYPE_CERT,
    OBJECT_TYPE_KEY,
    OBJECT_TYPE_SECRET,
    KeyVaultObject,
    parse_file_permission,
    parse_objects,
    validate_objects,
)
from kvcsi.provider.params import parse_mount_parameters

DEFAULT_PERMISSION = 0o644
CONTENT_TYPE_PEM = "application/x-pem-file"
CONTENT_TYPE_PKCS12 = "application/x-pkcs12"


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


@dataclass(frozen=True)
class ProviderSettings:
    """Process-wide settings from the command line."""

    default_cloud: str = AZURE_PUBLIC_CLOUD
    construct_pem_chain: bool = True
    write_cert_and_key_in_separate_files: bool = False


Progress = Callable[[str], None]


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


def decode_base64(text: str) -> bytes:
    """Go ``base64.StdEncoding.DecodeString`` (CR/LF ignored), with Go's error text."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    for index, char in enumerate(text):
        if char not in alphabet and char not in "\r\n":
            raise ValueError(f"illegal base64 data at input byte {index}")
    compact = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error:
        position = len(compact) - len(compact) % 4 if len(compact) % 4 else len(compact)
        if "=" in compact:
            position = compact.index("=")
        raise ValueError(f"illegal base64 data at input byte {position}") from None


def decode_hex(text: str) -> bytes:
    """Go ``hex.DecodeString`` with its error texts."""
    digits = set("0123456789abcdefABCDEF")
    for char in text[: len(text) - len(text) % 2]:
        if char not in digits:
            raise ValueError(f"encoding/hex: invalid byte: U+{ord(char):04X} {char!r}")
    if len(text) % 2:
        raise ValueError("encoding/hex: odd length hex string")
    return bytes.fromhex(text)


def _secret_text(obj: KeyVaultObject, bundle: SecretBundle) -> str:
    """What a secret object's file holds before ``objectEncoding`` (upstream getSecret)."""
    if not bundle.certificate_backed:
        return bundle.value
    content_type = bundle.content_type or ""
    if content_type == CONTENT_TYPE_PEM:
        return bundle.value
    if content_type == CONTENT_TYPE_PKCS12:
        if obj.object_format.lower() == FORMAT_PFX:
            return bundle.value
        raise MountError(f"{obj.describe()}: converting a PKCS#12 certificate to PEM is not "
                         "supported by kvcsi yet; set objectFormat: pfx")
    raise MountError(f"{obj.describe()}: failed to get certificate. "
                     f"unknown content type '{content_type}'")


def _encode(obj: KeyVaultObject, text: str) -> bytes:
    encoding = obj.object_encoding.lower()
    try:
        if encoding == ENCODING_BASE64:
            return decode_base64(text)
        if encoding == ENCODING_HEX:
            return decode_hex(text)
    except ValueError as error:
        # Upstream returns these decode errors without the per-object prefix.
        raise MountError(str(error)) from None
    return text.encode("utf-8")


def _fetch_secret(obj: KeyVaultObject, gateway: KeyVaultGateway, url: str, auth: AuthConfig,
                  cloud: CloudEnvironment) -> SecretBundle:
    if obj.object_type in (OBJECT_TYPE_KEY, OBJECT_TYPE_CERT):
        raise MountError(f"{obj.describe()}: objectType {obj.object_type} is not supported "
                         "by kvcsi yet; use objectType: secret")
    if obj.object_type != OBJECT_TYPE_SECRET:
        raise MountError(f"{obj.describe()}: Invalid vaultObjectTypes. "
                         "Should be secret, key, or cert")
    if obj.object_version_history > 1:
        raise MountError(f"{obj.describe()}: objectVersionHistory is not supported by kvcsi yet")
    try:
        return gateway.get_secret(url, auth, cloud, obj.object_name, obj.object_version)
    except KeyVaultFetchError as error:
        raise MountError(f"{obj.describe()}: {error}") from None


def mount(attributes_json: str, secrets_json: str = "null", permission_json: str = "420", *,
          gateway: KeyVaultGateway, settings: ProviderSettings | None = None,
          progress: Progress | None = None) -> MountResult:
    """Run one mount; raise :class:`MountError` with upstream's text on any failure."""
    settings = settings or ProviderSettings()
    report = progress or (lambda step: None)

    attributes = _decode_string_map(attributes_json, "attributes") or {}
    secrets = _decode_string_map(secrets_json, "secrets")
    default_mode = _decode_permission(permission_json)

    params = parse_mount_parameters(attributes)
    report("resolving the cloud environment")
    cloud = resolve_cloud(params.cloud_name, params.cloud_env_file_name, settings.default_cloud)
    auth = build_auth_config(params, secrets)
    objects = parse_objects(params.objects)
    validate_objects(objects)
    if not objects:
        return MountResult(files=[], object_versions=[])
    url = vault_url(params.keyvault_name, cloud)

    files: list[MountedFile] = []
    versions: list[ObjectVersion] = []
    for obj in objects:
        report(f"fetching {obj.uid} from {url}")
        bundle = _fetch_secret(obj, gateway, url, auth, cloud)
        contents = _encode(obj, _secret_text(obj, bundle))
        mode = parse_file_permission(obj.file_permission) if obj.file_permission \
            else default_mode
        files.append(MountedFile(obj.file_name, mode, contents))
        versions.append(ObjectVersion(obj.uid, bundle.version))
    return MountResult(files=files, object_versions=versions)


def decode_request_attributes(attributes_json: str) -> Mapping[str, str]:
    """The attributes map of a request (for logging after redaction); empty if undecodable."""
    try:
        return _decode_string_map(attributes_json, "attributes") or {}
    except MountError:
        return {}
