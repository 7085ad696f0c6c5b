"""CSI Node service: translates CSI requests to :class:`~kvcsi.driver.publisher.VolumePublisher`.

Upstream counterpart: ``pkg/secrets-store/nodeserver.go``. NodeGetInfo returns only the
node id; NodeGetCapabilities advertises STAGE_UNSTAGE_VOLUME (as upstream); stage/unstage
only validate; expand and volume stats are ``Unimplemented``. Domain errors become gRPC
statuses through the one table in :mod:`kvcsi.driver.errors`.
"""

from __future__ import annotations

import grpc

from kvcsi._proto import csi_pb2, csi_pb2_grpc
from kvcsi.driver.errors import DriverError, grpc_code
from kvcsi.driver.publisher import PublishRequest, VolumePublisher


class NodeServicer(csi_pb2_grpc.NodeServicer):
    def __init__(self, node_id: str, publisher: VolumePublisher) -> None:
        self.node_id = node_id
        self.publisher = publisher

    def NodePublishVolume(self, request, context):
        publish = PublishRequest(
            volume_id=request.volume_id,
            target_path=request.target_path,
            volume_context=dict(request.volume_context),
            secrets=dict(request.secrets),
            readonly=request.readonly,
            has_volume_capability=request.HasField("volume_capability"),
        )
        try:
            self.publisher.publish(publish, timeout=context.time_remaining())
        except DriverError as error:
            context.abort(grpc_code(error), str(error))
        return csi_pb2.NodePublishVolumeResponse()

    def NodeUnpublishVolume(self, request, context):
        try:
            self.publisher.unpublish(request.volume_id, request.target_path)
        except DriverError as error:
            context.abort(grpc_code(error), str(error))
        return csi_pb2.NodeUnpublishVolumeResponse()

    def NodeStageVolume(self, request, context):
        if not request.volume_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Volume ID missing in request")
        if not request.staging_target_path:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Target path missing in request")
        if not request.HasField("volume_capability"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Volume capability missing in request")
        return csi_pb2.NodeStageVolumeResponse()

    def NodeUnstageVolume(self, request, context):
        if not request.volume_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Volume ID missing in request")
        if not request.staging_target_path:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Target path missing in request")
        return csi_pb2.NodeUnstageVolumeResponse()

    def NodeGetInfo(self, request, context):
        return csi_pb2.NodeGetInfoResponse(node_id=self.node_id)

    def NodeGetCapabilities(self, request, context):
        rpc = csi_pb2.NodeServiceCapability.RPC(
            type=csi_pb2.NodeServiceCapability.RPC.STAGE_UNSTAGE_VOLUME
        )
        return csi_pb2.NodeGetCapabilitiesResponse(
            capabilities=[csi_pb2.NodeServiceCapability(rpc=rpc)]
        )

    def NodeExpandVolume(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "NodeExpandVolume is not implemented")

    def NodeGetVolumeStats(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "NodeGetVolumeStats is not implemented")
