"""CSI Identity service: plugin name and version, capabilities, readiness.

Upstream counterpart: ``pkg/secrets-store/identityserver.go`` (plus csi-common's defaults).
GetPluginCapabilities advertises CONTROLLER_SERVICE exactly as upstream does, even though
the controller service only answers ``Unimplemented`` (see :mod:`kvcsi.driver.controller`).
"""

from __future__ import annotations

import grpc
from google.protobuf import wrappers_pb2

from kvcsi._proto import csi_pb2, csi_pb2_grpc


class IdentityServicer(csi_pb2_grpc.IdentityServicer):
    def __init__(self, driver_name: str, vendor_version: str) -> None:
        self.driver_name = driver_name
        self.vendor_version = vendor_version

    def GetPluginInfo(self, request, context):
        if not self.driver_name:
            context.abort(grpc.StatusCode.UNAVAILABLE, "Driver name not configured")
        if not self.vendor_version:
            context.abort(grpc.StatusCode.UNAVAILABLE, "Driver is missing version")
        return csi_pb2.GetPluginInfoResponse(
            name=self.driver_name, vendor_version=self.vendor_version
        )

    def GetPluginCapabilities(self, request, context):
        service = csi_pb2.PluginCapability.Service(
            type=csi_pb2.PluginCapability.Service.CONTROLLER_SERVICE
        )
        return csi_pb2.GetPluginCapabilitiesResponse(
            capabilities=[csi_pb2.PluginCapability(service=service)]
        )

    def Probe(self, request, context):
        return csi_pb2.ProbeResponse(ready=wrappers_pb2.BoolValue(value=True))
