"""Top-level parameters: Go bool parsing, trimming, precedence and upstream error order."""

from __future__ import annotations

import pytest

from kvcsi.provider.errors import MountError
from kvcsi.provider.params import BoolSyntaxError, parse_go_bool, parse_mount_parameters

POD = {"csi.storage.k8s.io/pod.name": "app", "csi.storage.k8s.io/pod.namespace": "ns"}


def params(**values: str) -> dict[str, str]:
    return {**POD, "keyvaultName": "kv", "tenantID": "tid", **values}


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_go_true_spellings(text: str) -> None:
    assert parse_go_bool(text) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_go_false_spellings(text: str) -> None:
    assert parse_go_bool(text) is False


@pytest.mark.parametrize("text", ["tru", "yes", "tRUE", "on", ""])
def test_go_bool_rejects_others(text: str) -> None:
    with pytest.raises(BoolSyntaxError) as caught:
        parse_go_bool(text)
    assert str(caught.value) == f'strconv.ParseBool: parsing "{text}": invalid syntax'


def test_values_are_trimmed_and_tenant_id_wins() -> None:
    parsed = parse_mount_parameters(params(
        keyvaultName="  kv1 \n", tenantID=" tid-new ", tenantId="tid-old",
        useVMManagedIdentity=" true ", userAssignedIdentityID=" cid ",
        cloudName=" azurechinacloud "))
    assert parsed.keyvault_name == "kv1"
    assert parsed.tenant_id == "tid-new"
    assert parsed.use_vm_managed_identity is True
    assert parsed.user_assigned_identity_id == "cid"
    assert parsed.cloud_name == "azurechinacloud"


def test_deprecated_tenant_id_is_used_when_tenant_id_is_empty() -> None:
    values = params(tenantID="  ", tenantId="tid-old")
    assert parse_mount_parameters(values).tenant_id == "tid-old"


def test_empty_flags_are_false() -> None:
    parsed = parse_mount_parameters(params(usePodIdentity="", useVMManagedIdentity="  "))
    assert (parsed.use_pod_identity, parsed.use_vm_managed_identity) == (False, False)


@pytest.mark.parametrize(("values", "message"), [
    ({"csi.storage.k8s.io/pod.name": ""}, "pod name is not provided"),
    ({"csi.storage.k8s.io/pod.namespace": " "}, "pod namespace is not provided"),
    ({"usePodIdentity": "tru", "keyvaultName": ""},
     'failed to parse usePodIdentity flag, error: strconv.ParseBool: parsing "tru": '
     "invalid syntax"),
    ({"useVMManagedIdentity": "yes"},
     'failed to parse useVMManagedIdentity flag, error: strconv.ParseBool: parsing "yes": '
     "invalid syntax"),
    ({"useVMManagedIdentity": "true", "usePodIdentity": "1", "keyvaultName": ""},
     "only one identity mode can be enabled at a time: usePodIdentity, useVMManagedIdentity, "
     "or useAzureTokenProxy"),
    ({"keyvaultName": "  ", "tenantID": ""}, "keyvaultName is not provided"),
    ({"tenantID": "", "tenantId": ""}, "tenantId is not provided"),
])
def test_errors_in_upstream_order(values: dict[str, str], message: str) -> None:
    with pytest.raises(MountError) as caught:
        parse_mount_parameters(params(**values))
    assert str(caught.value) == message
