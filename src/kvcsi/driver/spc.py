"""SecretProviderClass access and the volume-context keys kubelet sends with a publish.

Upstream counterpart: the constants at the top of ``nodeserver.go`` and
``getSecretProviderItem`` / ``getProviderFromSPC`` / ``getParametersFromSPC`` in ``utils.go``,
plus the attribute building of NodePublishVolume (reference notes §1.5): SPC
``spec.parameters`` overlaid by every volume-context key, then the service-account tokens
from the request secrets when kubelet put them there (``serviceAccountTokenInSecrets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kvcsi.driver.cluster_access import DriverClusterStore, NoKindMatch, NotFound
from kvcsi.driver.errors import SecretProviderClassInvalid, SecretProviderClassNotFound

# Volume-context keys (kubelet podInfoOnMount, tokenRequests, and the pod's volumeAttributes).
SECRET_PROVIDER_CLASS_KEY = "secretProviderClass"
PROVIDER_NAME_KEY = "providerName"
POD_NAME_KEY = "csi.storage.k8s.io/pod.name"
POD_NAMESPACE_KEY = "csi.storage.k8s.io/pod.namespace"
POD_UID_KEY = "csi.storage.k8s.io/pod.uid"
SERVICE_ACCOUNT_NAME_KEY = "csi.storage.k8s.io/serviceAccount.name"
SERVICE_ACCOUNT_TOKENS_KEY = "csi.storage.k8s.io/serviceAccount.tokens"
EPHEMERAL_KEY = "csi.storage.k8s.io/ephemeral"

SPC_GROUP = "secrets-store.csi.x-k8s.io"
SPC_KIND = "SecretProviderClass"
SPC_RESOURCE = f"secretproviderclasses.{SPC_GROUP}"
# v1 is the storage version; v1alpha1 is still served (deprecated).
SPC_API_VERSIONS = (f"{SPC_GROUP}/v1", f"{SPC_GROUP}/v1alpha1")


@dataclass(frozen=True)
class PodRef:
    """The pod a publish is for, from the volume context."""

    namespace: str
    name: str
    uid: str

    @classmethod
    def from_volume_context(cls, volume_context: Mapping[str, str]) -> PodRef:
        return cls(
            namespace=volume_context.get(POD_NAMESPACE_KEY, ""),
            name=volume_context.get(POD_NAME_KEY, ""),
            uid=volume_context.get(POD_UID_KEY, ""),
        )


def get_secret_provider_class(store: DriverClusterStore, namespace: str, name: str) -> dict:
    """The SPC ``namespace/name`` (v1, then v1alpha1); raises SecretProviderClassNotFound."""
    prefix = f"failed to get secretproviderclass {namespace}/{name}, error: "
    for api_version in SPC_API_VERSIONS:
        try:
            return store.get(api_version, SPC_KIND, namespace, name)
        except (NotFound, NoKindMatch):
            continue
        except Exception as error:  # the store's own failure, reported as upstream does
            raise SecretProviderClassNotFound(prefix + str(error)) from error
    raise SecretProviderClassNotFound(
        f'{prefix}{SPC_RESOURCE} "{name}" not found in namespace "{namespace}"'
    )


def provider_of(spc: dict) -> str:
    """``spec.provider``; raises SecretProviderClassInvalid when unset."""
    provider = (spc.get("spec") or {}).get("provider") or ""
    if not provider:
        raise SecretProviderClassInvalid(f"provider not set in {_ref(spc)}")
    return str(provider)


def parameters_of(spc: dict) -> dict[str, str]:
    """A copy of ``spec.parameters``; raises SecretProviderClassInvalid when empty."""
    parameters = (spc.get("spec") or {}).get("parameters") or {}
    if not parameters:
        raise SecretProviderClassInvalid(f"parameters not set in {_ref(spc)}")
    return {str(key): str(value) for key, value in parameters.items()}


def build_attributes(
    parameters: Mapping[str, str],
    volume_context: Mapping[str, str],
    secrets: Mapping[str, str],
) -> dict[str, str]:
    """SPC parameters overlaid by the volume context (and tokens from the secrets)."""
    attributes = dict(parameters)
    attributes.update(volume_context)
    tokens = secrets.get(SERVICE_ACCOUNT_TOKENS_KEY)
    if tokens:
        attributes[SERVICE_ACCOUNT_TOKENS_KEY] = tokens
    return attributes


def _ref(spc: dict) -> str:
    metadata = spc.get("metadata") or {}
    return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
