"""Warnings for SecretProviderClass parameters that will not do what the user meant.

No upstream counterpart: upstream ignores every key it does not read (case BB-05). A warning
never fails the mount; it reaches the user through the provider log (with the
SecretProviderClass and pod) and the Mount call's trailing metadata
(:mod:`kvcsi.provider.server`). Three kinds, in this order, each sorted by key:

* unknown keys, with the nearest known key:
  ``unknown parameter "userAssignedIdentityId" (did you mean "userAssignedIdentityID"?)``
* deprecated keys: ``resourceGroup`` and ``subscriptionId`` (ignored), and ``tenantId`` when
  it differs from ``tenantID`` (which wins). ``tenantId`` alone is still read without a
  warning: most published examples, the AKS docs included, spell it that way.
* misplaced keys that belong elsewhere (driver flags, per-object fields, pod volume fields).
* values that are still a documentation placeholder (``tenantId: "<azure-tenant-id>"``): with
  a VM managed identity the tenant is not used, so such a mount works until it moves to
  another identity mode.

Keys the driver and kubelet inject (``csi.storage.k8s.io/*``, ``secretProviderClass``) are
known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from kvcsi.provider import params as p
from kvcsi.provider.suggestions import did_you_mean

READ_KEYS = (
    p.KEYVAULT_NAME, p.TENANT_ID, p.TENANT_ID_DEPRECATED, p.CLOUD_NAME, p.CLOUD_ENV_FILE_NAME,
    p.USE_POD_IDENTITY, p.USE_VM_MANAGED_IDENTITY, p.USE_AZURE_TOKEN_PROXY,
    p.USER_ASSIGNED_IDENTITY_ID, p.CLIENT_ID, p.OBJECTS,
)
SUGGESTED_KEYS = tuple(key for key in READ_KEYS if key != p.TENANT_ID_DEPRECATED)
INJECTED_PREFIX = "csi.storage.k8s.io/"
INJECTED_KEYS = ("secretProviderClass",)

DEPRECATED_IGNORED = ("resourceGroup", "subscriptionId")

_DRIVER_SETTING = "it is a setting of the Secrets Store CSI driver ({where}), not of a " \
                  "SecretProviderClass"
_PER_OBJECT = "it is a per-object field: set it inside an element of objects"
MISPLACED: dict[str, str] = {
    "enableSecretRotation": _DRIVER_SETTING.format(
        where="--enable-secret-rotation; Helm secrets-store-csi-driver.enableSecretRotation"),
    "rotationPollInterval": _DRIVER_SETTING.format(
        where="--rotation-poll-interval; Helm secrets-store-csi-driver.rotationPollInterval"),
    "syncSecret": _DRIVER_SETTING.format(where="Helm secrets-store-csi-driver.syncSecret"),
    "syncSecret.enabled": _DRIVER_SETTING.format(
        where="Helm secrets-store-csi-driver.syncSecret.enabled"),
    "constructPEMChain": "it is a provider flag (--construct-pem-chain)",
    "writeCertAndKeyInSeparateFiles":
        "it is a provider flag (--write-cert-and-key-in-separate-files)",
    "secretObjects": "it belongs in spec.secretObjects, not spec.parameters",
    "nodePublishSecretRef": "it belongs in the pod's csi volume, not spec.parameters",
    "filePermission": _PER_OBJECT,
    "objectName": _PER_OBJECT,
    "objectType": _PER_OBJECT,
    "objectAlias": _PER_OBJECT,
    "objectVersion": _PER_OBJECT,
    "objectVersionHistory": _PER_OBJECT,
    "objectFormat": _PER_OBJECT,
    "objectEncoding": _PER_OBJECT,
}


_PLACEHOLDER = re.compile(r"<[^<>]+>|\$\{[^}]+\}")


def _is_known(key: str) -> bool:
    return key in READ_KEYS or key in INJECTED_KEYS or key.startswith(INJECTED_PREFIX)


def parameter_warnings(attributes: Mapping[str, str]) -> list[str]:
    """Every warning for the keys of one mount's attributes."""
    unknown, deprecated, misplaced = [], [], []
    for key in sorted(attributes):
        if _is_known(key) and key != p.TENANT_ID_DEPRECATED:
            continue
        if key == p.TENANT_ID_DEPRECATED:
            old = str(attributes.get(key, "")).strip()
            new = str(attributes.get(p.TENANT_ID, "")).strip()
            if old and new and old != new:
                deprecated.append(f'parameters "tenantID" and "tenantId" differ: "tenantID" '
                                  f'({new}) is used')
        elif key in DEPRECATED_IGNORED:
            deprecated.append(f'deprecated parameter "{key}" is ignored by the Azure provider')
        elif key in MISPLACED:
            misplaced.append(f'parameter "{key}" has no effect here: {MISPLACED[key]}')
        else:
            unknown.append(f'unknown parameter "{key}"{did_you_mean(key, SUGGESTED_KEYS)}')
    placeholders = [
        f'parameter "{key}" is still a placeholder: "{attributes[key].strip()}"'
        for key in sorted(attributes)
        if key in READ_KEYS and key != p.OBJECTS
        and _PLACEHOLDER.fullmatch(str(attributes[key]).strip())
    ]
    return unknown + deprecated + misplaced + placeholders
