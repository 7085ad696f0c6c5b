"""Identity mode selection: which identity a mount authenticates as (step 8 of a mount).

Upstream counterpart: ``pkg/auth/auth.go`` (``NewConfig``), v1.8.x.

=====================  =======================================================================
mode                   chosen when
=====================  =======================================================================
``VMManagedIdentity``  ``useVMManagedIdentity: "true"`` — IMDS of the node; the user-assigned
                       identity by ``userAssignedIdentityID`` (client id), else system-assigned
``PodIdentity``        ``usePodIdentity: "true"`` — not supported by kvcsi (clear error)
``AzureTokenProxy``    ``useAzureTokenProxy: "true"`` — not supported by kvcsi (clear error)
``None``               no flag: workload identity when ``clientID`` is set and the driver passed
                       a service account token for ``api://AzureADTokenExchange``; otherwise a
                       service principal from the nodePublishSecretRef Secret
                       (``clientid``/``clientsecret``, keys matched case-insensitively)
=====================  =======================================================================

Failures read ``failed to build auth config for mode <mode>: <cause>``; when no identity is
configured at all, upstream's cause is followed by the ways to supply one. The resulting
:class:`AuthConfig` holds credentials material (a client secret or an assertion); its
``repr`` hides them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from kvcsi.provider.errors import MountError
from kvcsi.provider.params import MountParameters

MODE_NONE = "None"
MODE_POD_IDENTITY = "PodIdentity"
MODE_VM_MANAGED_IDENTITY = "VMManagedIdentity"
MODE_AZURE_TOKEN_PROXY = "AzureTokenProxy"

KIND_MANAGED_IDENTITY = "managed-identity"
KIND_WORKLOAD_IDENTITY = "workload-identity"
KIND_SERVICE_PRINCIPAL = "service-principal"

WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class AuthConfig:
    """How one mount obtains Key Vault tokens."""

    kind: str
    tenant_id: str
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    assertion: str = field(default="", repr=False)


def _mode(params: MountParameters) -> str:
    if params.use_pod_identity:
        return MODE_POD_IDENTITY
    if params.use_vm_managed_identity:
        return MODE_VM_MANAGED_IDENTITY
    if params.use_azure_token_proxy:
        return MODE_AZURE_TOKEN_PROXY
    return MODE_NONE


def parse_workload_identity_token(tokens_json: str) -> str:
    """The service account token for ``api://AzureADTokenExchange`` from the driver's JSON."""
    if not tokens_json:
        raise ValueError("service account tokens not found")
    try:
        tokens = json.loads(tokens_json)
    except ValueError as error:
        raise ValueError(f"failed to unmarshal service account tokens, error: {error}") from None
    entry = tokens.get(WORKLOAD_IDENTITY_AUDIENCE) if isinstance(tokens, dict) else None
    token = entry.get("token") if isinstance(entry, dict) else None
    if not isinstance(token, str) or not token:
        raise ValueError(f"token for audience {WORKLOAD_IDENTITY_AUDIENCE} not found")
    return token


NO_IDENTITY_HINT = (
    "; no identity is configured: set useVMManagedIdentity: \"true\" (the node's managed "
    "identity, with userAssignedIdentityID for a user-assigned one), clientID (workload "
    "identity), or a nodePublishSecretRef Secret with clientid and clientsecret (service "
    "principal)")


def _service_principal(secrets: Mapping[str, str]) -> tuple[str, str]:
    if not secrets:
        raise ValueError("failed to get credentials, nodePublishSecretRef secret is not set"
                         + NO_IDENTITY_HINT)
    lowered = {key.lower(): value for key, value in secrets.items()}
    client_id = str(lowered.get("clientid", "")).strip()
    if not client_id:
        raise ValueError("could not find clientid in secrets")
    client_secret = str(lowered.get("clientsecret", "")).strip()
    if not client_secret:
        raise ValueError("could not find clientsecret in secrets")
    return client_id, client_secret


def _select(mode: str, params: MountParameters, secrets: Mapping[str, str]) -> AuthConfig:
    assertion = ""
    if params.client_id:
        # Upstream parses the workload identity token whenever clientID is set, even in
        # managed identity mode; a missing token then fails the mount the same way here.
        try:
            assertion = parse_workload_identity_token(params.service_account_tokens)
        except ValueError as error:
            raise ValueError(f"failed to parse workload identity tokens, error: {error}") from None
    if mode == MODE_POD_IDENTITY:
        raise ValueError(
            "aad-pod-identity (usePodIdentity) is not supported by kvcsi; use "
            "useVMManagedIdentity, workload identity (clientID) or a service principal")
    if mode == MODE_AZURE_TOKEN_PROXY:
        raise ValueError(
            "identity binding (useAzureTokenProxy) is not supported by kvcsi; use "
            "useVMManagedIdentity, workload identity (clientID) or a service principal")
    if mode == MODE_VM_MANAGED_IDENTITY:
        return AuthConfig(KIND_MANAGED_IDENTITY, params.tenant_id,
                          client_id=params.user_assigned_identity_id)
    if assertion:
        return AuthConfig(KIND_WORKLOAD_IDENTITY, params.tenant_id,
                          client_id=params.client_id, assertion=assertion)
    client_id, client_secret = _service_principal(secrets)
    return AuthConfig(KIND_SERVICE_PRINCIPAL, params.tenant_id, client_id=client_id,
                      client_secret=client_secret)


def build_auth_config(params: MountParameters, secrets: Mapping[str, str] | None) -> AuthConfig:
    """Pick the identity for a mount, with upstream's mode rules and errors."""
    mode = _mode(params)
    try:
        return _select(mode, params, secrets or {})
    except ValueError as error:
        raise MountError(f"failed to build auth config for mode {mode}: {error}") from None
