"""Coalescing: which requests share a provider call, and the single flight + cycle cache."""

from __future__ import annotations

import json
import threading

import pytest

from kvcsi.driver.coalescing import SingleFlight, coalescing_key

from .world import INTERVAL, FakeClock, World

BASE = {
    "keyvaultName": "kv1",
    "objects": "array: []",
    "secretProviderClass": "azure-kv",
    "csi.storage.k8s.io/pod.name": "app-1",
    "csi.storage.k8s.io/pod.namespace": "default",
    "csi.storage.k8s.io/pod.uid": "uid-1",
    "csi.storage.k8s.io/serviceAccount.name": "default",
    "csi.storage.k8s.io/ephemeral": "true",
}


def _tokens(token: str, audiences=("api://AzureADTokenExchange",)) -> str:
    return json.dumps({aud: {"token": token, "expirationTimestamp": "2030-01-01T00:00:00Z"}
                       for aud in audiences})


def test_pod_name_and_uid_do_not_split_the_key() -> None:
    other_pod = dict(BASE, **{"csi.storage.k8s.io/pod.name": "app-2",
                              "csi.storage.k8s.io/pod.uid": "uid-2"})
    assert coalescing_key("azure", BASE, {}) == coalescing_key("azure", other_pod, {})


@pytest.mark.parametrize("change", [
    {"csi.storage.k8s.io/serviceAccount.name": "other"},
    {"csi.storage.k8s.io/pod.namespace": "other"},
    {"keyvaultName": "kv2"},
    {"clientID": "33333333-3333-3333-3333-333333333333"},
])
def test_identity_namespace_and_parameters_split_the_key(change: dict) -> None:
    assert coalescing_key("azure", BASE, {}) != coalescing_key("azure", dict(BASE, **change), {})


def test_node_publish_secrets_split_the_key() -> None:
    one = coalescing_key("azure", BASE, {"clientid": "a", "clientsecret": "s1"})
    two = coalescing_key("azure", BASE, {"clientid": "a", "clientsecret": "s2"})
    none = coalescing_key("azure", BASE, {})
    assert len({one, two, none}) == 3
    assert "s1" not in one  # a digest, never the material


def test_pod_bound_tokens_share_by_audience_not_by_value() -> None:
    key = "csi.storage.k8s.io/serviceAccount.tokens"
    first = coalescing_key("azure", dict(BASE, **{key: _tokens("t1")}), {})
    second = coalescing_key("azure", dict(BASE, **{key: _tokens("t2")}), {})
    other_audience = coalescing_key("azure", dict(BASE, **{key: _tokens("t1", ("aud2",))}), {})
    assert first == second
    assert first != other_audience
    assert first != coalescing_key("azure", BASE, {})


def test_per_pod_identity_never_shares() -> None:
    per_pod = dict(BASE, usePodIdentity="true")
    other = dict(per_pod, **{"csi.storage.k8s.io/pod.name": "app-2",
                             "csi.storage.k8s.io/pod.uid": "uid-2"})
    assert coalescing_key("azure", per_pod, {}) != coalescing_key("azure", other, {})


def test_single_flight_runs_one_call_for_concurrent_callers() -> None:
    flights: SingleFlight[str] = SingleFlight(ttl=60)
    release = threading.Event()
    calls = []

    def call() -> str:
        calls.append(1)
        release.wait(5)
        return "result"

    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(flights.run("k", call)))
               for _ in range(20)]
    for thread in threads:
        thread.start()
    while len(calls) < 1:
        pass
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1
    assert [o.result for o in outcomes] == ["result"] * 20
    assert sum(o.shared for o in outcomes) == 19


def test_cached_result_lives_for_the_ttl_and_first_mounts_skip_it() -> None:
    clock = FakeClock()
    flights: SingleFlight[int] = SingleFlight(ttl=10, clock=clock)
    counter = iter(range(100))
    assert flights.run("k", lambda: next(counter)).result == 0
    clock.advance(9.9)
    assert flights.run("k", lambda: next(counter)).result == 0
    assert flights.run("k", lambda: next(counter), use_cache=False).result == 1
    clock.advance(10)
    assert flights.run("k", lambda: next(counter)).result == 2
    assert flights.calls == 3


def test_failure_is_cached_until_its_retry_time() -> None:
    clock = FakeClock()
    flights: SingleFlight[int] = SingleFlight(ttl=10, clock=clock)

    def fail() -> int:
        raise RuntimeError("throttled")

    first = flights.run("k", fail, retry_delay=lambda error: 30)
    assert str(first.error) == "throttled"
    clock.advance(29)
    again = flights.run("k", lambda: 1)
    assert again.shared and str(again.error) == "throttled"
    clock.advance(1)
    assert flights.run("k", lambda: 1).result == 1
    assert flights.calls == 2


def test_two_hundred_pods_one_class_cost_one_provider_call_per_cycle(world: World) -> None:
    provider = world.driver.provider
    provider.files = [(f"secret-{i}", 0o644, b"v1") for i in range(10)]
    pods = [world.add_pod(f"app-{i}") for i in range(200)]
    for each in pods:
        world.publish(each)
    first_mounts = len(provider.requests)
    assert first_mounts == 200  # a new pod always gets a fresh fetch

    provider.files = [(f"secret-{i}", 0o644, b"v2") for i in range(10)]
    world.clock.advance(INTERVAL)
    for each in pods:  # one rotation cycle: every volume's republish
        world.publish(each)
    assert len(provider.requests) - first_mounts == 1
    target = world.driver.target(uid=pods[-1]["metadata"]["uid"])
    with open(f"{target}/secret-9", "rb") as handle:
        assert handle.read() == b"v2"


def test_pods_with_other_identities_do_not_share(world: World) -> None:
    provider = world.driver.provider
    provider.files = [("password", 0o644, b"v1")]
    same = [world.add_pod(f"app-{i}") for i in range(3)]
    world.store.create({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": "builder", "namespace": "default"}})
    other_sa = world.add_pod("other-sa", service_account="builder")
    for each in [*same, other_sa]:
        world.publish(each)
    world.clock.advance(INTERVAL)
    before = len(provider.requests)
    for each in [*same, other_sa]:
        world.publish(each)
    for secret in ("s1", "s2"):  # nodePublishSecretRef with other credentials
        world.clock.advance(INTERVAL)
        world.publish(same[0], secrets={"clientid": "a", "clientsecret": secret})
    rotation_calls = provider.requests[before:]
    assert len(rotation_calls) == 4
    pod_names = [json.loads(r.attributes)["csi.storage.k8s.io/pod.name"] for r in rotation_calls]
    assert pod_names == ["app-0", "other-sa", "app-0", "app-0"]
    assert [r.secrets for r in rotation_calls[2:]] == [
        '{"clientid":"a","clientsecret":"s1"}', '{"clientid":"a","clientsecret":"s2"}']
