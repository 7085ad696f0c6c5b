"""csi-sanity-like rules of the CSI spec, against the real driver process over its socket.

Covers what csi-sanity checks for a node-only, ephemeral-volume plugin (Identity, Node, and a
Controller service that answers UNIMPLEMENTED), plus the driver-specific argument checks.
"""

from __future__ import annotations

import json
import os
import re

import grpc
import pytest

from kvcsi._proto import csi_pb2

from .driver_process import POD_NAME, POD_UID, capability, publish_request, target_path

CSI_NAME_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$")


def code_and_details(call, request) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=10)
    return raised.value.code(), raised.value.details()


# -- Identity ------------------------------------------------------------------------------


def test_plugin_info_has_a_valid_name_and_a_vendor_version(csi_driver):
    info = csi_driver.identity.GetPluginInfo(csi_pb2.GetPluginInfoRequest(), timeout=10)
    assert info.name == "secrets-store.csi.k8s.io"
    assert CSI_NAME_RE.match(info.name) and len(info.name) <= 63
    assert info.vendor_version


def test_plugin_capabilities_are_the_upstream_ones(csi_driver):
    response = csi_driver.identity.GetPluginCapabilities(
        csi_pb2.GetPluginCapabilitiesRequest(), timeout=10
    )
    assert [c.service.type for c in response.capabilities] == [
        csi_pb2.PluginCapability.Service.CONTROLLER_SERVICE
    ]


def test_probe_is_ready(csi_driver):
    response = csi_driver.identity.Probe(csi_pb2.ProbeRequest(), timeout=10)
    assert response.HasField("ready") and response.ready.value is True


# -- Controller ----------------------------------------------------------------------------


def test_controller_capabilities_are_one_unknown_rpc(csi_driver):
    response = csi_driver.controller.ControllerGetCapabilities(
        csi_pb2.ControllerGetCapabilitiesRequest(), timeout=10
    )
    assert [c.rpc.type for c in response.capabilities] == [
        csi_pb2.ControllerServiceCapability.RPC.UNKNOWN
    ]


CONTROLLER_RPCS = [
    ("CreateVolume", csi_pb2.CreateVolumeRequest(name="v")),
    ("DeleteVolume", csi_pb2.DeleteVolumeRequest(volume_id="v")),
    ("ControllerPublishVolume", csi_pb2.ControllerPublishVolumeRequest(volume_id="v")),
    ("ControllerUnpublishVolume", csi_pb2.ControllerUnpublishVolumeRequest(volume_id="v")),
    ("ValidateVolumeCapabilities", csi_pb2.ValidateVolumeCapabilitiesRequest(volume_id="v")),
    ("ListVolumes", csi_pb2.ListVolumesRequest()),
    ("GetCapacity", csi_pb2.GetCapacityRequest()),
    ("CreateSnapshot", csi_pb2.CreateSnapshotRequest(name="s", source_volume_id="v")),
    ("DeleteSnapshot", csi_pb2.DeleteSnapshotRequest(snapshot_id="s")),
    ("ListSnapshots", csi_pb2.ListSnapshotsRequest()),
    ("ControllerExpandVolume", csi_pb2.ControllerExpandVolumeRequest(volume_id="v")),
    ("ControllerGetVolume", csi_pb2.ControllerGetVolumeRequest(volume_id="v")),
]


@pytest.mark.parametrize(("rpc", "request_message"), CONTROLLER_RPCS,
                         ids=[rpc for rpc, _ in CONTROLLER_RPCS])
def test_every_other_controller_rpc_is_unimplemented(csi_driver, rpc, request_message):
    code, _details = code_and_details(getattr(csi_driver.controller, rpc), request_message)
    assert code == grpc.StatusCode.UNIMPLEMENTED


# -- Node: info and capabilities -----------------------------------------------------------


def test_node_get_info_is_the_nodeid_flag_only(csi_driver):
    info = csi_driver.node.NodeGetInfo(csi_pb2.NodeGetInfoRequest(), timeout=10)
    assert info.node_id == "node-conformance"
    assert info.max_volumes_per_node == 0
    assert not info.HasField("accessible_topology")


def test_node_capabilities(csi_driver):
    response = csi_driver.node.NodeGetCapabilities(
        csi_pb2.NodeGetCapabilitiesRequest(), timeout=10
    )
    assert [c.rpc.type for c in response.capabilities] == [
        csi_pb2.NodeServiceCapability.RPC.STAGE_UNSTAGE_VOLUME
    ]


@pytest.mark.parametrize("rpc", ["NodeExpandVolume", "NodeGetVolumeStats"])
def test_unsupported_node_rpcs_are_unimplemented(csi_driver, rpc):
    request = getattr(csi_pb2, f"{rpc}Request")(volume_id="v", volume_path="/x")
    code, _details = code_and_details(getattr(csi_driver.node, rpc), request)
    assert code == grpc.StatusCode.UNIMPLEMENTED


# -- Node: required fields (InvalidArgument) -----------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"volume_capability": None}, "Volume capability missing in request"),
        ({"volume_id": ""}, "Volume ID missing in request"),
        ({"target_path": ""}, "Target path missing in request"),
        ({"volume_context": {}}, "Volume attributes missing in request"),
    ],
    ids=["capability", "volume_id", "target_path", "volume_context"],
)
def test_publish_required_fields(csi_driver, module_setup, change, message):
    request = publish_request(target_path(module_setup.kubelet_dir, "required"))
    for field_name, value in change.items():
        request.ClearField(field_name)
        if value:
            setattr(request, field_name, value)
    code, details = code_and_details(csi_driver.node.NodePublishVolume, request)
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, message)


def test_publish_readonly_false_is_invalid(csi_driver, module_setup):
    target = target_path(module_setup.kubelet_dir, "rw")
    request = publish_request(target, readonly=False)
    code, details = code_and_details(csi_driver.node.NodePublishVolume, request)
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT,
                               "Readonly is not true in request")
    assert not os.path.ismount(target)


@pytest.mark.parametrize(
    ("request_message", "message"),
    [
        (csi_pb2.NodeUnpublishVolumeRequest(target_path="/x"), "Volume ID missing in request"),
        (csi_pb2.NodeUnpublishVolumeRequest(volume_id="v"), "Target path missing in request"),
    ],
    ids=["volume_id", "target_path"],
)
def test_unpublish_required_fields(csi_driver, request_message, message):
    code, details = code_and_details(csi_driver.node.NodeUnpublishVolume, request_message)
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, message)


@pytest.mark.parametrize(
    ("request_message", "message"),
    [
        (csi_pb2.NodeStageVolumeRequest(staging_target_path="/s", volume_capability=capability()),
         "Volume ID missing in request"),
        (csi_pb2.NodeStageVolumeRequest(volume_id="v", volume_capability=capability()),
         "Target path missing in request"),
        (csi_pb2.NodeStageVolumeRequest(volume_id="v", staging_target_path="/s"),
         "Volume capability missing in request"),
    ],
    ids=["volume_id", "staging_path", "capability"],
)
def test_stage_required_fields(csi_driver, request_message, message):
    code, details = code_and_details(csi_driver.node.NodeStageVolume, request_message)
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, message)


def test_unstage_required_fields_and_no_op(csi_driver):
    code, details = code_and_details(csi_driver.node.NodeUnstageVolume,
                                     csi_pb2.NodeUnstageVolumeRequest(volume_id="v"))
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT,
                               "Target path missing in request")
    csi_driver.node.NodeUnstageVolume(
        csi_pb2.NodeUnstageVolumeRequest(volume_id="v", staging_target_path="/s"), timeout=10
    )


# -- Node: publish / unpublish lifecycle ---------------------------------------------------


def test_publish_is_idempotent_and_unpublish_twice_succeeds(csi_driver, module_setup):
    target = target_path(module_setup.kubelet_dir, "lifecycle")
    calls_before = len(module_setup.provider.requests)
    request = publish_request(target)
    csi_driver.node.NodePublishVolume(request, timeout=30)
    csi_driver.node.NodePublishVolume(request, timeout=30)  # same request again: OK
    assert len(module_setup.provider.requests) == calls_before + 1  # rotation off: one fetch
    with open(os.path.join(target, "username"), "rb") as mounted:
        assert mounted.read() == b"admin"
    if os.geteuid() == 0:
        assert os.path.ismount(target)

    unpublish = csi_pb2.NodeUnpublishVolumeRequest(volume_id=request.volume_id,
                                                   target_path=target)
    csi_driver.node.NodeUnpublishVolume(unpublish, timeout=30)
    assert not os.path.lexists(target)
    csi_driver.node.NodeUnpublishVolume(unpublish, timeout=30)  # again: still OK


def test_unpublish_of_an_unknown_target_succeeds(csi_driver, module_setup):
    target = target_path(module_setup.kubelet_dir, "never-published", uid="no-such-pod")
    csi_driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-unknown", target_path=target),
        timeout=10,
    )
    assert not os.path.lexists(target)


def test_mock_provider_path_mounts_without_a_secret_provider_class(csi_driver, module_setup):
    """csi-sanity's own path upstream: providerName=mock_provider mounts an empty volume."""
    target = target_path(module_setup.kubelet_dir, "mock")
    request = publish_request(target, volume_context={"providerName": "mock_provider"})
    csi_driver.node.NodePublishVolume(request, timeout=30)
    assert os.path.isdir(target) and os.listdir(target) == []
    csi_driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id=request.volume_id, target_path=target),
        timeout=10,
    )
    assert not os.path.lexists(target)


def test_publish_records_the_pod_status_in_the_cluster(csi_driver, module_setup):
    from kvcsi.cluster import connect

    target = target_path(module_setup.kubelet_dir, "status")
    module_setup.provider.versions = [("secret/z", "3"), ("secret/a", "1")]
    try:
        csi_driver.node.NodePublishVolume(publish_request(target), timeout=30)
    finally:
        module_setup.provider.versions = [("secret/foo", "v1")]
    store = connect(module_setup.store_path)
    try:
        record = store.get("secrets-store.csi.x-k8s.io/v1", "SecretProviderClassPodStatus",
                           "default", f"{POD_NAME}-default-azure-kv")
    finally:
        store.close()
    assert record["metadata"]["labels"] == {
        "internal.secrets-store.csi.k8s.io/node-name": "node-conformance"
    }
    assert record["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": POD_NAME, "uid": POD_UID}
    ]
    assert record["status"]["objects"] == [{"id": "secret/a", "version": "1"},
                                           {"id": "secret/z", "version": "3"}]
    assert record["status"]["targetPath"] == target
    csi_driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-x", target_path=target), timeout=10
    )


def test_a_secret_provider_class_written_as_v1alpha1_is_used(csi_driver, module_setup):
    target = target_path(module_setup.kubelet_dir, "alpha")
    csi_driver.node.NodePublishVolume(
        publish_request(target, volume_context_extra={"secretProviderClass": "alpha-spc"}),
        timeout=30,
    )
    attributes = json.loads(module_setup.provider.requests[-1].attributes)
    assert (attributes["keyvaultName"], attributes["secretProviderClass"]) == (
        "kv-alpha", "alpha-spc")
    csi_driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-a", target_path=target), timeout=10
    )
