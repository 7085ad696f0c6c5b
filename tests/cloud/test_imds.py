"""IMDS per VM: azure-identity's ManagedIdentityCredential, identity selection, exact errors."""

from __future__ import annotations

import pytest
import requests
from azure.identity import ManagedIdentityCredential

from kvcsi.cloud.identity.imds import MULTIPLE_IDENTITIES
from kvcsi.cloud.identity.tokens import unverified_claims


def _get(vm, resource, headers=None, **params):
    params = {"api-version": "2018-02-01", "resource": resource, **params}
    if resource is None:
        del params["resource"]
    return requests.get(f"{vm.imds_endpoint}/metadata/identity/oauth2/token", params=params,
                        headers={"Metadata": "true"} if headers is None else headers,
                        timeout=10)


def _kv(cloud) -> str:
    return cloud.endpoints["keyvault_resource"]


def test_managed_identity_credential_uses_the_vm_imds(shared_local_cloud, monkeypatch):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)

    token = ManagedIdentityCredential().get_token(cloud.keyvault_scope)

    claims = unverified_claims(token.token)
    assert claims["aud"] == _kv(cloud)
    assert claims["oid"] == vm.system_principal["id"]
    assert claims["appid"] == vm.system_principal["appId"]
    assert claims["xms_mirid"] == vm.vmss["id"]
    assert claims["appidacr"] == "2"


def test_managed_identity_credential_with_client_id(shared_local_cloud, monkeypatch):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(user_assigned=2)
    chosen = vm.user_assigned[1]
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)

    credential = ManagedIdentityCredential(client_id=chosen["properties"]["clientId"])
    claims = unverified_claims(credential.get_token(cloud.keyvault_scope).token)

    assert claims["oid"] == chosen["properties"]["principalId"]
    assert claims["xms_mirid"] == chosen["id"]


def test_success_body_is_all_strings(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(user_assigned=1)
    response = _get(vm, _kv(cloud))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert sorted(body) == ["access_token", "client_id", "expires_in", "expires_on",
                            "ext_expires_in", "not_before", "resource", "token_type"]
    assert all(isinstance(value, str) for value in body.values())
    assert body["client_id"] == vm.user_assigned[0]["properties"]["clientId"]
    assert body["expires_in"] in ("86399", "86398")
    assert body["resource"] == _kv(cloud)
    assert body["token_type"] == "Bearer"
    assert int(body["expires_on"]) - int(body["not_before"]) == 86399
    claims = unverified_claims(body["access_token"])
    assert claims["exp"] == int(body["expires_on"])
    assert claims["xms_mirid"] == vm.user_assigned[0]["id"]


def test_system_assigned_wins_without_selector(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True, user_assigned=2)
    body = _get(vm, _kv(cloud)).json()
    assert body["client_id"] == vm.system_principal["appId"]


@pytest.mark.parametrize("selector", ["client_id", "object_id", "msi_res_id"])
def test_selectors_pick_a_user_assigned_identity(shared_local_cloud, selector):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True, user_assigned=2)
    wanted = vm.user_assigned[1]
    value = {"client_id": wanted["properties"]["clientId"],
             "object_id": wanted["properties"]["principalId"],
             "msi_res_id": wanted["id"]}[selector]
    body = _get(vm, _kv(cloud), **{selector: value}).json()
    assert body["client_id"] == wanted["properties"]["clientId"]


def _error(response) -> tuple[int, dict[str, str]]:
    return response.status_code, response.json()


def test_metadata_header_is_required(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True)
    expected = (400, {"error": "invalid_request",
                      "error_description": "Required metadata header not specified"})
    assert _error(_get(vm, _kv(cloud), headers={})) == expected
    assert _error(_get(vm, _kv(cloud), headers={"Metadata": "false"})) == expected


def test_resource_is_required(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True)
    assert _error(_get(vm, None)) == (400, {
        "error": "invalid_request",
        "error_description": "Required audience parameter not specified"})


def test_several_user_assigned_need_a_selector(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(user_assigned=2)
    assert _error(_get(vm, _kv(cloud))) == (400, {
        "error": "invalid_request", "error_description": MULTIPLE_IDENTITIES})
    assert MULTIPLE_IDENTITIES == (
        "Multiple user assigned identities exist, please specify the clientId / resourceId of "
        "the identity in the token request")


def test_unknown_identity_and_vm_without_identity(shared_local_cloud):
    cloud = shared_local_cloud
    expected = (400, {"error": "invalid_request", "error_description": "Identity not found"})
    vm = cloud.seed.scale_set_vm(user_assigned=1)
    assert _error(_get(vm, _kv(cloud), client_id="00000000-0000-0000-0000-000000000000")) == (
        expected)
    assert _error(_get(vm, _kv(cloud), msi_res_id="/subscriptions/x/nope")) == expected
    bare = cloud.seed.scale_set_vm()
    assert _error(_get(bare, _kv(cloud))) == expected


def test_unknown_resource_is_invalid_resource(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True)
    status, body = _error(_get(vm, "https://vault.azure.net"))
    assert (status, body["error"]) == (400, "invalid_resource")
    assert body["error_description"].startswith(
        "AADSTS500011: The resource principal named https://vault.azure.net was not found")


def test_unknown_vm_is_404(shared_local_cloud):
    cloud = shared_local_cloud
    response = requests.get(
        f"{cloud.endpoints['imds_base']}/no-such-vm/metadata/identity/oauth2/token",
        params={"resource": _kv(cloud)}, headers={"Metadata": "true"}, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
