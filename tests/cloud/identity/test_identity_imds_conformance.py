"""IMDS per VM: the SDK's selectors and the refusals real IMDS gives, status and body."""

from __future__ import annotations

import threading

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CredentialUnavailableError, ManagedIdentityCredential

from kvcsi.cloud.identity.imds import FORWARDED_NOT_ALLOWED, MULTIPLE_IDENTITIES
from kvcsi.cloud.identity.imds_limits import ImdsLimits, VmThrottle
from kvcsi.cloud.identity.tokens import unverified_claims


def _get(vm, resource: str, headers: dict[str, str] | None = None, **params: str):
    return httpx.get(f"{vm.imds_endpoint}/metadata/identity/oauth2/token",
                     params={"api-version": "2018-02-01", "resource": resource, **params},
                     headers={"Metadata": "true"} if headers is None else headers, timeout=10)


@pytest.mark.parametrize("key", ["object_id", "resource_id"])
def test_sdk_identity_config_selects_a_user_assigned_identity(shared_local_cloud, monkeypatch,
                                                              key):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True, user_assigned=2)
    wanted = vm.user_assigned[0]
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)
    value = wanted["properties"]["principalId"] if key == "object_id" else wanted["id"]
    credential = ManagedIdentityCredential(identity_config={key: value})
    claims = unverified_claims(credential.get_token(cloud.keyvault_scope).token)
    assert (claims["oid"], claims["xms_mirid"]) == (wanted["properties"]["principalId"],
                                                    wanted["id"])


def test_app_service_spelling_mi_res_id(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(user_assigned=2)
    wanted = vm.user_assigned[1]
    response = _get(vm, cloud.endpoints["keyvault_resource"], mi_res_id=wanted["id"])
    assert response.status_code == 200
    assert response.json()["client_id"] == wanted["properties"]["clientId"]


def test_x_forwarded_for_is_refused(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True)
    response = _get(vm, cloud.endpoints["keyvault_resource"],
                    headers={"Metadata": "true", "X-Forwarded-For": "10.0.0.7"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"error": "invalid_request",
                               "error_description": FORWARDED_NOT_ALLOWED}
    assert FORWARDED_NOT_ALLOWED == "X-Forwarded-For header is not allowed"


def test_sdk_errors_name_the_imds_text(shared_local_cloud, monkeypatch):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(user_assigned=2)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)
    errors = (ClientAuthenticationError, CredentialUnavailableError)
    with pytest.raises(errors) as several:
        ManagedIdentityCredential().get_token(cloud.keyvault_scope)
    assert MULTIPLE_IDENTITIES in str(several.value)
    with pytest.raises(errors) as unknown:
        ManagedIdentityCredential(client_id="00000000-0000-0000-0000-000000000001").get_token(
            cloud.keyvault_scope)
    assert "Identity not found" in str(unknown.value)


def test_more_than_twenty_requests_a_second_get_429(shared_local_cloud):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True)
    other = cloud.seed.scale_set_vm(system_assigned=True)
    statuses = []
    with httpx.Client(timeout=10) as client:  # keep-alive: well over 20 requests a second
        while 429 not in statuses and len(statuses) < 200:
            throttled = client.get(f"{vm.imds_endpoint}/metadata/identity/oauth2/token",
                                   params={"api-version": "2018-02-01", "resource": "x"})
            statuses.append(throttled.status_code)
    assert statuses[-1] == 429
    assert len(statuses) >= 21 and set(statuses[:20]) == {400}  # refused ones count too
    assert throttled.headers["retry-after"] == "1"
    assert throttled.json() == {
        "error": "too_many_requests",
        "error_description": "Too many requests: the managed identity endpoint of this VM "
                             "allows 20 requests per second and 5 concurrent requests."}
    assert _get(other, cloud.endpoints["keyvault_resource"]).status_code == 200  # per VM


def test_throttle_window_and_concurrency():
    now = [100.0]
    throttle = VmThrottle(ImdsLimits(requests_per_second=3, max_concurrent=2),
                          clock=lambda: now[0])
    assert [throttle.admit(), throttle.admit()] == [None, None]
    assert throttle.admit() == 1  # two in flight
    throttle.release()
    assert throttle.admit() is None
    throttle.release()
    throttle.release()
    now[0] += 0.4
    assert throttle.admit() == 1  # three in the last second; the oldest leaves in 0.6 s
    now[0] += 0.6
    assert throttle.admit() is None


def test_concurrent_sdk_callers_all_succeed_within_the_limit(shared_local_cloud, monkeypatch):
    cloud = shared_local_cloud
    vm = cloud.seed.scale_set_vm(system_assigned=True)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", vm.imds_endpoint)
    results: list[str] = []

    def fetch() -> None:
        token = ManagedIdentityCredential().get_token(cloud.keyvault_scope)
        results.append(unverified_claims(token.token)["oid"])

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [vm.system_principal["id"]] * 4
