"""Provider warnings (gRPC trailing metadata ``kvcsi-warning-bin``) become pod events.

A fake provider sends the metadata with a successful and with a failed Mount; the real
driver, over real unix sockets, records one ``ProviderWarning`` Warning per distinct warning
on the pod, and the store aggregates repeats of the same text into one event with a count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest

from kvcsi.driver.mounter import DirectoryMounter
from kvcsi.driver.provider_client import warnings_from_metadata

from .harness import NODE_ID, POD_UID, DriverHarness, FakeClusterStore, FakeProvider, make_driver

POD = "busybox-secrets-store-inline"
UNKNOWN_KEY = 'unknown parameter "userAssignedIdentityId" (did you mean "userAssignedIdentityID"?)'
DEPRECATED = 'deprecated parameter "resourceGroup" is ignored by the Azure provider'


def message(warning: str) -> str:
    return f'provider "fake" warns about SecretProviderClass default/azure-kv: {warning}'


class EventStore(FakeClusterStore):
    """The fake store plus ``record_event`` aggregating like the cluster store."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def record_event(self, involved, type_, reason, message, component, host=None) -> dict:
        for event in self.events:
            if (event["involved"], event["type"], event["reason"], event["message"]) == (
                    involved, type_, reason, message):
                event["count"] += 1
                return event
        event = {"involved": involved, "type": type_, "reason": reason, "message": message,
                 "component": component, "host": host, "count": 1}
        self.events.append(event)
        return event


@dataclass
class WarningProvider(FakeProvider):
    """A fake provider that sends ``warnings`` as trailing metadata, as the kvcsi provider."""

    warnings: list[str] = field(default_factory=list)

    def Mount(self, request, context):  # noqa: N802
        context.set_trailing_metadata(
            tuple(("kvcsi-warning-bin", w.encode("utf-8")) for w in self.warnings))
        return super().Mount(request, context)


@pytest.fixture
def warned() -> Iterator[DriverHarness]:
    store = EventStore()
    store.add_spc()
    for harness in make_driver(DirectoryMounter(), store=store):
        harness.provider = WarningProvider(
            files=[("foo", 0o644, b"bar")],
            warnings=[UNKNOWN_KEY, DEPRECATED, UNKNOWN_KEY])
        harness.restart_provider()
        yield harness


def warning_events(store: EventStore) -> list[tuple[str, str, str, int]]:
    return [(e["type"], e["reason"], e["message"], e["count"]) for e in store.events]


def test_warnings_of_a_successful_mount_are_pod_events(warned: DriverHarness) -> None:
    warned.node.NodePublishVolume(warned.publish_request())
    store = warned.store
    assert warning_events(store) == [
        ("Warning", "ProviderWarning", message(UNKNOWN_KEY), 1),
        ("Warning", "ProviderWarning", message(DEPRECATED), 1)]
    event = store.events[0]
    assert event["involved"] == {"apiVersion": "v1", "kind": "Pod", "namespace": "default",
                                 "name": POD, "uid": POD_UID}
    assert (event["component"], event["host"]) == ("csi-secrets-store", NODE_ID)
    with open(f"{warned.target()}/foo", "rb") as mounted:
        assert mounted.read() == b"bar"


def test_warnings_of_a_failed_mount_are_pod_events_and_repeats_aggregate(
        warned: DriverHarness) -> None:
    warned.provider.abort_with = (grpc.StatusCode.UNKNOWN, "failed to mount objects, error: x")
    for _attempt in range(2):  # kubelet retries
        with pytest.raises(grpc.RpcError) as raised:
            warned.node.NodePublishVolume(warned.publish_request())
        assert raised.value.details() == (
            f"failed to mount secrets store objects for pod default/{POD}, err: rpc error: "
            "code = Unknown desc = failed to mount objects, error: x")
    assert warning_events(warned.store) == [
        ("Warning", "ProviderWarning", message(UNKNOWN_KEY), 2),
        ("Warning", "ProviderWarning", message(DEPRECATED), 2)]


def test_no_metadata_no_event(driver: DriverHarness) -> None:
    store = EventStore()
    store.add_spc()
    driver.publisher.events.store = store
    driver.provider.files = [("foo", 0o644, b"bar")]
    driver.node.NodePublishVolume(driver.publish_request())
    assert store.events == []


def test_metadata_is_read_in_order_deduplicated_and_bounded() -> None:
    long_text = "x" * 600
    metadata = [("kvcsi-warning-bin", b"one"), ("other-key", "ignored"),
                ("kvcsi-warning-bin", b"two"), ("kvcsi-warning-bin", b"one"),
                ("kvcsi-warning-bin", long_text.encode()), ("kvcsi-warning-bin", b"\xff")]
    assert warnings_from_metadata(metadata) == ("one", "two", "x" * 509 + "...", "\ufffd")
    many = [("kvcsi-warning-bin", f"w{i}".encode()) for i in range(30)]
    assert len(warnings_from_metadata(many)) == 20
    assert warnings_from_metadata(None) == ()


def test_a_response_error_code_keeps_the_warnings(warned: DriverHarness) -> None:
    warned.provider.error_code = "AuthorizationFailed"
    with pytest.raises(grpc.RpcError) as raised:
        warned.node.NodePublishVolume(warned.publish_request())
    assert raised.value.details().endswith(
        "mount request failed with provider error code AuthorizationFailed")
    assert [e["message"] for e in warned.store.events] == [message(UNKNOWN_KEY),
                                                           message(DEPRECATED)]
