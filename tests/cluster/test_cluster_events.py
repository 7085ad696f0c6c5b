"""Events: core/v1 shape, client-go style aggregation, lookup by involved object."""

from __future__ import annotations

from cluster_samples import pod

from kvcsi.cluster import LocalClusterStore


def test_event_shape(store: LocalClusterStore) -> None:
    mypod = store.create(pod())
    event = store.record_event(mypod, "Warning", "FailedMount", "MountVolume.SetUp failed",
                               "kubelet", "aks-nodepool1-12345678-vmss000000")
    assert event["apiVersion"] == "v1"
    assert event["kind"] == "Event"
    assert event["metadata"]["namespace"] == "default"
    assert event["metadata"]["name"].startswith("mypod.")
    assert event["involvedObject"] == {
        "apiVersion": "v1", "kind": "Pod", "name": "mypod", "namespace": "default",
        "uid": mypod["metadata"]["uid"], "resourceVersion": mypod["metadata"]["resourceVersion"],
    }
    assert event["source"] == {"component": "kubelet",
                               "host": "aks-nodepool1-12345678-vmss000000"}
    assert (event["type"], event["reason"], event["count"]) == ("Warning", "FailedMount", 1)
    assert event["firstTimestamp"] == event["lastTimestamp"]


def test_same_event_is_aggregated(store: LocalClusterStore) -> None:
    mypod = store.create(pod())
    first = store.record_event(mypod, "Warning", "FailedMount", "boom", "kubelet", "node0")
    again = store.record_event(mypod, "Warning", "FailedMount", "boom", "kubelet", "node0")
    third = store.record_event(mypod, "Warning", "FailedMount", "boom", "kubelet", "node0")
    assert again["metadata"]["name"] == first["metadata"]["name"]
    assert third["count"] == 3
    other = store.record_event(mypod, "Warning", "FailedMount", "other", "kubelet", "node0")
    assert other["metadata"]["name"] != first["metadata"]["name"]
    assert [(e["message"], e["count"]) for e in store.events_for(mypod)] == [
        ("boom", 3), ("other", 1),
    ]


def test_events_for_uses_reference_and_namespace(store: LocalClusterStore) -> None:
    mypod = store.create(pod())
    store.create(pod(name="second"))
    store.record_event(mypod, "Normal", "Scheduled", "assigned", "default-scheduler")
    store.record_event({"kind": "Pod", "namespace": "default", "name": "second"},
                       "Normal", "Pulled", "image present", "kubelet")
    assert [e["reason"] for e in store.events_for(
        {"kind": "Pod", "namespace": "default", "name": "mypod"})] == ["Scheduled"]
    assert [e["reason"] for e in store.list_events("default")] == ["Scheduled", "Pulled"]


def test_events_of_cluster_scoped_objects_live_in_default(store: LocalClusterStore) -> None:
    event = store.record_event({"kind": "Node", "name": "node0"}, "Normal", "Starting",
                               "Starting kubelet.", "kubelet", "node0")
    assert event["metadata"]["namespace"] == "default"
    assert [e["reason"] for e in store.events_for({"kind": "Node", "name": "node0"})] == [
        "Starting"
    ]
