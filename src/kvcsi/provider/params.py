"""SecretProviderClass parameters the Azure provider reads from ``attributes``.

Upstream counterpart: ``pkg/provider/types/parameters.go`` and the first half of
``pkg/provider/provider.go`` (``GetSecretsStoreObjectContent``), v1.8.x.

=============================  ==========================================================
parameter                      meaning
=============================  ==========================================================
``keyvaultName``               vault name (not URL); required
``tenantID`` / ``tenantId``    tenant; ``tenantID`` wins; required in every mode
``cloudName``                  cloud environment, case-insensitive; empty = ``--cloud-name``
``cloudEnvFileName``           AzureStackCloud environment file for this mount (upstream sets
                               ``AZURE_ENVIRONMENT_FILEPATH`` for good; kvcsi does not)
``usePodIdentity``             aad-pod-identity (not supported by kvcsi)
``useVMManagedIdentity``       node managed identity through IMDS
``useAzureTokenProxy``         AKS identity binding (not supported by kvcsi)
``userAssignedIdentityID``     client id of the user-assigned identity for the VM identity
``clientID``                   client id for workload identity
``objects``                    YAML list of objects (see :mod:`kvcsi.provider.objects`)
=============================  ==========================================================

Validation order and texts (each aborts the mount):

1. ``pod name is not provided`` / ``pod namespace is not provided``
2. ``failed to parse <flag> flag, error: strconv.ParseBool: parsing "<v>": invalid syntax``
3. ``only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity,
   or useAzureTokenProxy``
4. ``keyvaultName is not provided``
5. ``tenantId is not provided``

Later steps (cloud, auth config, objects) live in their own modules and are sequenced by
:mod:`kvcsi.provider.mount`. Every value is whitespace-trimmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kvcsi.provider.errors import MountError, go_quote

KEYVAULT_NAME = "keyvaultName"
TENANT_ID = "tenantID"
TENANT_ID_DEPRECATED = "tenantId"
CLOUD_NAME = "cloudName"
CLOUD_ENV_FILE_NAME = "cloudEnvFileName"
USE_POD_IDENTITY = "usePodIdentity"
USE_VM_MANAGED_IDENTITY = "useVMManagedIdentity"
USE_AZURE_TOKEN_PROXY = "useAzureTokenProxy"
USER_ASSIGNED_IDENTITY_ID = "userAssignedIdentityID"
CLIENT_ID = "clientID"
OBJECTS = "objects"

POD_NAME = "csi.storage.k8s.io/pod.name"
POD_NAMESPACE = "csi.storage.k8s.io/pod.namespace"
POD_UID = "csi.storage.k8s.io/pod.uid"
SERVICE_ACCOUNT_NAME = "csi.storage.k8s.io/serviceAccount.name"
SERVICE_ACCOUNT_TOKENS = "csi.storage.k8s.io/serviceAccount.tokens"
SECRET_PROVIDER_CLASS = "secretProviderClass"

AZURE_ENVIRONMENT_FILEPATH_ENV = "AZURE_ENVIRONMENT_FILEPATH"

_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class BoolSyntaxError(ValueError):
    """``strconv.ParseBool`` rejected the value; ``str()`` is Go's text."""


def parse_go_bool(value: str) -> bool:
    """Go ``strconv.ParseBool``: ``1 t T TRUE true True`` / ``0 f F FALSE false False``."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    raise BoolSyntaxError(f"strconv.ParseBool: parsing {go_quote(value)}: invalid syntax")


@dataclass(frozen=True)
class MountParameters:
    """The top-level parameters of one mount, trimmed and checked (steps 1–5)."""

    keyvault_name: str
    tenant_id: str
    cloud_name: str
    cloud_env_file_name: str
    use_pod_identity: bool
    use_vm_managed_identity: bool
    use_azure_token_proxy: bool
    user_assigned_identity_id: str
    client_id: str
    objects: str
    pod_name: str
    pod_namespace: str
    service_account_tokens: str


def _flag(attributes: Mapping[str, str], name: str) -> bool:
    value = attributes.get(name, "").strip()
    if not value:
        return False
    try:
        return parse_go_bool(value)
    except BoolSyntaxError as error:
        raise MountError(f"failed to parse {name} flag, error: {error}") from None


def parse_mount_parameters(attributes: Mapping[str, str]) -> MountParameters:
    """Read and check the top-level parameters in upstream order (steps 1–5)."""

    def text(name: str) -> str:
        value = attributes.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    pod_name = text(POD_NAME)
    if not pod_name:
        raise MountError("pod name is not provided")
    pod_namespace = text(POD_NAMESPACE)
    if not pod_namespace:
        raise MountError("pod namespace is not provided")

    use_pod_identity = _flag(attributes, USE_POD_IDENTITY)
    use_vm_managed_identity = _flag(attributes, USE_VM_MANAGED_IDENTITY)
    use_azure_token_proxy = _flag(attributes, USE_AZURE_TOKEN_PROXY)
    if sum((use_pod_identity, use_vm_managed_identity, use_azure_token_proxy)) > 1:
        raise MountError(
            "only one identity mode can be enabled at a time: usePodIdentity, "
            "useVMManagedIdentity, or useAzureTokenProxy"
        )

    keyvault_name = text(KEYVAULT_NAME)
    if not keyvault_name:
        raise MountError("keyvaultName is not provided")
    tenant_id = text(TENANT_ID) or text(TENANT_ID_DEPRECATED)
    if not tenant_id:
        raise MountError("tenantId is not provided")

    return MountParameters(
        keyvault_name=keyvault_name,
        tenant_id=tenant_id,
        cloud_name=text(CLOUD_NAME),
        cloud_env_file_name=text(CLOUD_ENV_FILE_NAME),
        use_pod_identity=use_pod_identity,
        use_vm_managed_identity=use_vm_managed_identity,
        use_azure_token_proxy=use_azure_token_proxy,
        user_assigned_identity_id=text(USER_ASSIGNED_IDENTITY_ID),
        client_id=text(CLIENT_ID),
        objects=text(OBJECTS),
        pod_name=pod_name,
        pod_namespace=pod_namespace,
        service_account_tokens=text(SERVICE_ACCOUNT_TOKENS),
    )
