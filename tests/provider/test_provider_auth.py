"""Identity mode selection and its error texts."""

from __future__ import annotations

import json

import pytest

from kvcsi.provider.auth import (
    KIND_MANAGED_IDENTITY,
    KIND_SERVICE_PRINCIPAL,
    KIND_WORKLOAD_IDENTITY,
    NO_IDENTITY_HINT,
    AuthConfig,
    build_auth_config,
)
from kvcsi.provider.errors import MountError
from kvcsi.provider.params import parse_mount_parameters

TOKENS = json.dumps({"api://AzureADTokenExchange": {"token": "eyJhbGciOi.sa.token",
                                                    "expirationTimestamp": "2030-01-01T00:00:00Z"}})


def config(secrets: dict[str, str] | None = None, **values: str) -> AuthConfig:
    attributes = {"csi.storage.k8s.io/pod.name": "p", "csi.storage.k8s.io/pod.namespace": "n",
                  "keyvaultName": "kv", "tenantID": "tid", **values}
    return build_auth_config(parse_mount_parameters(attributes), secrets)


def error(secrets: dict[str, str] | None = None, **values: str) -> str:
    with pytest.raises(MountError) as caught:
        config(secrets, **values)
    return str(caught.value)


def test_vm_managed_identity_with_and_without_client_id() -> None:
    assert config(useVMManagedIdentity="true", userAssignedIdentityID="cid") == \
        AuthConfig(KIND_MANAGED_IDENTITY, "tid", client_id="cid")
    assert config(useVMManagedIdentity="true") == AuthConfig(KIND_MANAGED_IDENTITY, "tid")


def test_workload_identity_uses_the_exchange_token() -> None:
    auth = config(clientID="app-id", **{"csi.storage.k8s.io/serviceAccount.tokens": TOKENS})
    assert (auth.kind, auth.client_id, auth.assertion) == (
        KIND_WORKLOAD_IDENTITY, "app-id", "eyJhbGciOi.sa.token")
    assert "eyJ" not in repr(auth)


def test_service_principal_keys_are_case_insensitive() -> None:
    auth = config({"ClientID": "sp-id", "ClientSecret": "sp-secret"})
    assert (auth.kind, auth.client_id, auth.client_secret) == (
        KIND_SERVICE_PRINCIPAL, "sp-id", "sp-secret")
    assert "sp-secret" not in repr(auth)


@pytest.mark.parametrize(("secrets", "values", "message"), [
    (None, {}, "failed to build auth config for mode None: failed to get credentials, "
               "nodePublishSecretRef secret is not set" + NO_IDENTITY_HINT),
    ({"clientsecret": "x"}, {},
     "failed to build auth config for mode None: could not find clientid in secrets"),
    ({"clientid": "x"}, {},
     "failed to build auth config for mode None: could not find clientsecret in secrets"),
    (None, {"clientID": "app"},
     "failed to build auth config for mode None: failed to parse workload identity tokens, "
     "error: service account tokens not found"),
    (None, {"clientID": "app", "csi.storage.k8s.io/serviceAccount.tokens": "{}"},
     "failed to build auth config for mode None: failed to parse workload identity tokens, "
     "error: token for audience api://AzureADTokenExchange not found"),
    (None, {"clientID": "app", "useVMManagedIdentity": "true"},
     "failed to build auth config for mode VMManagedIdentity: failed to parse workload "
     "identity tokens, error: service account tokens not found"),
])
def test_auth_errors(secrets: dict[str, str] | None, values: dict[str, str],
                     message: str) -> None:
    assert error(secrets, **values) == message


def test_pod_identity_is_refused_clearly() -> None:
    assert error(usePodIdentity="true") == (
        "failed to build auth config for mode PodIdentity: aad-pod-identity (usePodIdentity) "
        "is not supported by kvcsi; use useVMManagedIdentity, workload identity (clientID) or "
        "a service principal")


def test_identity_binding_is_refused_clearly() -> None:
    assert error(useAzureTokenProxy="true").startswith(
        "failed to build auth config for mode AzureTokenProxy: identity binding "
        "(useAzureTokenProxy) is not supported by kvcsi")
