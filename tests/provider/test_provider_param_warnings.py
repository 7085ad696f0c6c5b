"""Warnings for unknown, deprecated and misplaced SecretProviderClass parameters (BB-05)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kvcsi.provider.errors import MountError
from kvcsi.provider.mount import mount
from kvcsi.provider.param_warnings import parameter_warnings
from kvcsi.provider.suggestions import nearest_key

POD = {"csi.storage.k8s.io/pod.name": "app", "csi.storage.k8s.io/pod.namespace": "ns",
       "csi.storage.k8s.io/pod.uid": "u", "csi.storage.k8s.io/ephemeral": "true",
       "secretProviderClass": "my-spc", "keyvaultName": "kv", "tenantID": "t", "objects": "x"}


def test_known_and_injected_keys_give_no_warning() -> None:
    assert parameter_warnings({**POD, "cloudName": "", "cloudEnvFileName": "",
                               "usePodIdentity": "false", "useVMManagedIdentity": "true",
                               "useAzureTokenProxy": "", "userAssignedIdentityID": "",
                               "clientID": "", "csi.storage.k8s.io/serviceAccount.name": "d"}
                              ) == []


@pytest.mark.parametrize(("key", "warning"), [
    ("userAssignedIdentityId",
     'unknown parameter "userAssignedIdentityId" (did you mean "userAssignedIdentityID"?)'),
    ("tenantid", 'unknown parameter "tenantid" (did you mean "tenantID"?)'),
    ("keyVaultName", 'unknown parameter "keyVaultName" (did you mean "keyvaultName"?)'),
    ("useVMManagedIdentiy",
     'unknown parameter "useVMManagedIdentiy" (did you mean "useVMManagedIdentity"?)'),
    ("clientId", 'unknown parameter "clientId" (did you mean "clientID"?)'),
    ("object", 'unknown parameter "object" (did you mean "objects"?)'),
    ("somethingElse", 'unknown parameter "somethingElse"'),
    ("resourceGroup", 'deprecated parameter "resourceGroup" is ignored by the Azure provider'),
    ("subscriptionId",
     'deprecated parameter "subscriptionId" is ignored by the Azure provider'),
    ("enableSecretRotation",
     'parameter "enableSecretRotation" has no effect here: it is a setting of the Secrets '
     "Store CSI driver (--enable-secret-rotation; Helm "
     "secrets-store-csi-driver.enableSecretRotation), not of a SecretProviderClass"),
    ("filePermission", 'parameter "filePermission" has no effect here: it is a per-object '
                       "field: set it inside an element of objects"),
])
def test_one_key(key: str, warning: str) -> None:
    assert parameter_warnings({**POD, key: "v"}) == [warning]


def test_tenant_spellings() -> None:
    assert parameter_warnings({**POD, "tenantID": "", "tenantId": "old"}) == []
    assert parameter_warnings({**POD, "tenantID": "new", "tenantId": "old"}) == [
        'parameters "tenantID" and "tenantId" differ: "tenantID" (new) is used']
    assert parameter_warnings({**POD, "tenantId": "t"}) == []


def test_order_is_unknown_then_deprecated_then_misplaced() -> None:
    assert parameter_warnings({**POD, "zeta": "", "resourceGroup": "", "syncSecret": "",
                               "alpha": ""}) == [
        'unknown parameter "alpha"', 'unknown parameter "zeta"',
        'deprecated parameter "resourceGroup" is ignored by the Azure provider',
        'parameter "syncSecret" has no effect here: it is a setting of the Secrets Store CSI '
        "driver (Helm secrets-store-csi-driver.syncSecret), not of a SecretProviderClass"]


def test_nearest_key_prefers_a_case_variant() -> None:
    assert nearest_key("CLIENTID", ["clientID", "keyvaultName"]) == "clientID"
    assert nearest_key("xyz", ["clientID"]) is None


def test_warnings_travel_with_results_and_errors(attributes: Callable[..., str],
                                                 fake_vault: Any) -> None:
    result = mount(attributes(userAssignedIdentityId="x", resourceGroup="rg"),
                   gateway=fake_vault)
    assert result.warnings == [
        'unknown parameter "userAssignedIdentityId" (did you mean "userAssignedIdentityID"?)',
        'deprecated parameter "resourceGroup" is ignored by the Azure provider']
    with pytest.raises(MountError) as caught:
        mount(attributes(tenantID=None, tenantid="t"), gateway=fake_vault)
    assert str(caught.value) == "tenantId is not provided"
    assert caught.value.warnings == ['unknown parameter "tenantid" (did you mean "tenantID"?)']


def test_documentation_placeholders_are_named() -> None:
    seed_like = {key: value for key, value in POD.items() if key != "tenantID"}
    assert parameter_warnings({**seed_like, "tenantId": "<azure-tenant-id>",
                               "keyvaultName": "${VAULT}", "userAssignedIdentityID": ""}) == [
        'parameter "keyvaultName" is still a placeholder: "${VAULT}"',
        'parameter "tenantId" is still a placeholder: "<azure-tenant-id>"',
    ]
    assert parameter_warnings({**seed_like,
                               "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}) == []
