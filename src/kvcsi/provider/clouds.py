"""Azure cloud environments and vault addresses.

Upstream counterpart: the go-autorest environment table (``autorest/azure/environments.go``)
as used by ``pkg/provider/provider.go`` (``cloudName``, ``cloudEnvFileName``,
``AZURE_ENVIRONMENT_FILEPATH``; kvcsi never changes that variable) and the vault-name
check of ``getVaultURL``.

``AzureStackCloud`` is any custom cloud: its endpoints come from a JSON environment file
(camelCase go-autorest keys; this provider reads ``name``, ``activeDirectoryEndpoint``,
``keyVaultEndpoint``, ``keyVaultDNSSuffix`` and ``resourceManagerEndpoint``). kvcsi's local
cloud writes such a file, with a DNS suffix that carries a port (``vault.localhost:8443``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from kvcsi.provider.errors import MountError
from kvcsi.provider.params import AZURE_ENVIRONMENT_FILEPATH_ENV

AZURE_PUBLIC_CLOUD = "AzurePublicCloud"
AZURE_STACK_CLOUD = "AzureStackCloud"


@dataclass(frozen=True)
class CloudEnvironment:
    """The endpoints of one Azure cloud that the provider needs."""

    name: str
    active_directory_endpoint: str
    key_vault_endpoint: str
    key_vault_dns_suffix: str
    resource_manager_endpoint: str = ""


BUILTIN_CLOUDS: dict[str, CloudEnvironment] = {
    "AZUREPUBLICCLOUD": CloudEnvironment(
        "AzurePublicCloud", "https://login.microsoftonline.com/", "https://vault.azure.net/",
        "vault.azure.net", "https://management.azure.com/"),
    "AZUREUSGOVERNMENTCLOUD": CloudEnvironment(
        "AzureUSGovernmentCloud", "https://login.microsoftonline.us/",
        "https://vault.usgovcloudapi.net/", "vault.usgovcloudapi.net",
        "https://management.usgovcloudapi.net/"),
    "AZURECHINACLOUD": CloudEnvironment(
        "AzureChinaCloud", "https://login.chinacloudapi.cn/", "https://vault.azure.cn/",
        "vault.azure.cn", "https://management.chinacloudapi.cn/"),
    "AZUREGERMANCLOUD": CloudEnvironment(
        "AzureGermanCloud", "https://login.microsoftonline.de/",
        "https://vault.microsoftazure.de/", "vault.microsoftazure.de",
        "https://management.microsoftazure.de/"),
}


class CloudLookupError(ValueError):
    """The cloud name or environment file is unusable; ``str()`` is go-autorest's text."""


def is_known_cloud_name(name: str) -> bool:
    """True for the four built-in clouds and AzureStackCloud (case-insensitive)."""
    return name.upper() in BUILTIN_CLOUDS or name.upper() == AZURE_STACK_CLOUD.upper()


def _os_error_text(operation: str, path: str, error: OSError) -> str:
    reasons = {
        FileNotFoundError: "no such file or directory",
        PermissionError: "permission denied",
        IsADirectoryError: "is a directory",
    }
    reason = reasons.get(type(error), (error.strerror or str(error)).lower())
    return f"{operation} {path}: {reason}"


def load_environment_file(path: str) -> CloudEnvironment:
    """Read an AzureStackCloud environment file (go-autorest ``EnvironmentFromFile``)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except IsADirectoryError as error:
        raise CloudLookupError(_os_error_text("read", path, error)) from None
    except OSError as error:
        raise CloudLookupError(_os_error_text("open", path, error)) from None
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise CloudLookupError(f"invalid environment file {path}: {error}") from None
    if not isinstance(document, dict):
        raise CloudLookupError(f"invalid environment file {path}: not a JSON object")

    def field(key: str) -> str:
        value = document.get(key, "")
        return value.strip() if isinstance(value, str) else ""

    return CloudEnvironment(
        name=field("name"),
        active_directory_endpoint=field("activeDirectoryEndpoint"),
        key_vault_endpoint=field("keyVaultEndpoint"),
        key_vault_dns_suffix=field("keyVaultDNSSuffix"),
        resource_manager_endpoint=field("resourceManagerEndpoint"),
    )


def environment_from_name(name: str, environment_file: str | None = None) -> CloudEnvironment:
    """go-autorest ``EnvironmentFromName``: built-ins by upper-cased name, or the stack file.

    The stack file is ``environment_file`` when given, else ``$AZURE_ENVIRONMENT_FILEPATH``.
    """
    upper = name.upper()
    if upper == AZURE_STACK_CLOUD.upper():
        if not environment_file:
            environment_file = os.environ.get(AZURE_ENVIRONMENT_FILEPATH_ENV, "")
        return load_environment_file(environment_file)
    try:
        return BUILTIN_CLOUDS[upper]
    except KeyError:
        raise CloudLookupError(
            f'autorest/azure: There is no cloud environment matching the name "{upper}"'
        ) from None


def resolve_cloud(cloud_name: str, cloud_env_file_name: str,
                  default_cloud: str) -> CloudEnvironment:
    """Steps 6–7 of a mount: look the cloud up, with ``cloudEnvFileName`` for AzureStackCloud.

    Upstream sets the process-wide ``AZURE_ENVIRONMENT_FILEPATH`` from ``cloudEnvFileName``
    and it stays set, so one SecretProviderClass changes the cloud of every later mount that
    names none. kvcsi applies the file to this mount only; a mount without
    ``cloudEnvFileName`` uses the provider's own ``$AZURE_ENVIRONMENT_FILEPATH``.
    """
    name = cloud_name or default_cloud
    try:
        return environment_from_name(name, cloud_env_file_name or None)
    except CloudLookupError as error:
        raise MountError(f"cloudName {name} is not valid, error: {error}") from None


_VAULT_NAME = re.compile(r"[-a-zA-Z0-9]{3,24}")


def vault_url(vault_name: str, cloud: CloudEnvironment) -> str:
    """``https://<name>.<keyVaultDNSSuffix>/`` after upstream's vault-name check (step 14)."""
    if not 3 <= len(vault_name) <= 24:
        raise MountError(
            f'failed to get vault: Invalid vault name: "{vault_name}", '
            "must be between 3 and 24 chars"
        )
    if not _VAULT_NAME.fullmatch(vault_name):
        raise MountError(
            f'failed to get vault: Invalid vault name: "{vault_name}", '
            "must match [-a-zA-Z0-9]{3,24}"
        )
    return f"https://{vault_name}.{cloud.key_vault_dns_suffix}/"
