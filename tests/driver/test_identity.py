"""Identity, Controller and the simple Node RPCs over the driver's real unix socket."""

from __future__ import annotations

import grpc
import pytest

from kvcsi._proto import csi_pb2

from .harness import NODE_ID


def test_get_plugin_info(driver):
    info = driver.identity.GetPluginInfo(csi_pb2.GetPluginInfoRequest())
    assert (info.name, info.vendor_version) == ("secrets-store.csi.k8s.io", "0.1.0")


def test_plugin_capabilities_advertise_controller_service_as_upstream(driver):
    response = driver.identity.GetPluginCapabilities(csi_pb2.GetPluginCapabilitiesRequest())
    assert [c.service.type for c in response.capabilities] == [
        csi_pb2.PluginCapability.Service.CONTROLLER_SERVICE
    ]


def test_probe_is_ready(driver):
    response = driver.identity.Probe(csi_pb2.ProbeRequest())
    assert response.HasField("ready") and response.ready.value is True


def test_node_get_info_is_only_the_node_id(driver):
    response = driver.node.NodeGetInfo(csi_pb2.NodeGetInfoRequest())
    assert response == csi_pb2.NodeGetInfoResponse(node_id=NODE_ID)


def test_node_capabilities_are_stage_unstage(driver):
    response = driver.node.NodeGetCapabilities(csi_pb2.NodeGetCapabilitiesRequest())
    assert [c.rpc.type for c in response.capabilities] == [
        csi_pb2.NodeServiceCapability.RPC.STAGE_UNSTAGE_VOLUME
    ]


def test_controller_capabilities_and_unimplemented_rpcs(driver):
    caps = driver.controller.ControllerGetCapabilities(csi_pb2.ControllerGetCapabilitiesRequest())
    assert [c.rpc.type for c in caps.capabilities] == [
        csi_pb2.ControllerServiceCapability.RPC.UNKNOWN
    ]
    with pytest.raises(grpc.RpcError) as raised:
        driver.controller.CreateVolume(csi_pb2.CreateVolumeRequest(name="x"))
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_node_expand_is_unimplemented(driver):
    with pytest.raises(grpc.RpcError) as raised:
        driver.node.NodeExpandVolume(csi_pb2.NodeExpandVolumeRequest(volume_id="v"))
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert raised.value.details() == "NodeExpandVolume is not implemented"


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"staging_target_path": "/s"}, "Volume ID missing in request"),
        ({"volume_id": "v"}, "Target path missing in request"),
        ({"volume_id": "v", "staging_target_path": "/s"}, "Volume capability missing in request"),
    ],
)
def test_node_stage_only_validates(driver, request_fields, message):
    with pytest.raises(grpc.RpcError) as raised:
        driver.node.NodeStageVolume(csi_pb2.NodeStageVolumeRequest(**request_fields))
    assert (raised.value.code(), raised.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        message,
    )


def test_node_stage_and_unstage_succeed_as_no_ops(driver):
    capability = csi_pb2.VolumeCapability(mount=csi_pb2.VolumeCapability.MountVolume())
    driver.node.NodeStageVolume(
        csi_pb2.NodeStageVolumeRequest(
            volume_id="v", staging_target_path="/s", volume_capability=capability
        )
    )
    driver.node.NodeUnstageVolume(
        csi_pb2.NodeUnstageVolumeRequest(volume_id="v", staging_target_path="/s")
    )
