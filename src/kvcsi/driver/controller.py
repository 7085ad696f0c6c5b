"""CSI Controller service: registered (as upstream) but effectively absent.

Upstream counterpart: ``pkg/secrets-store/controllerserver.go``. ControllerGetCapabilities
answers one ``RPC UNKNOWN`` capability; every other RPC is ``Unimplemented`` (the generated
base class already answers that).
"""

from __future__ import annotations

from kvcsi._proto import csi_pb2, csi_pb2_grpc


class ControllerServicer(csi_pb2_grpc.ControllerServicer):
    def ControllerGetCapabilities(self, request, context):
        rpc = csi_pb2.ControllerServiceCapability.RPC(
            type=csi_pb2.ControllerServiceCapability.RPC.UNKNOWN
        )
        return csi_pb2.ControllerGetCapabilitiesResponse(
            capabilities=[csi_pb2.ControllerServiceCapability(rpc=rpc)]
        )
