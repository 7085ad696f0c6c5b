"""The two gRPC wire contracts kvcsi speaks, as checked-in generated stubs.

- :mod:`kvcsi._proto.csi_pb2` / :mod:`kvcsi._proto.csi_pb2_grpc`: the Container Storage
  Interface, package ``csi.v1`` (upstream ``container-storage-interface/spec`` ``csi.proto``):
  services ``Identity``, ``Controller`` and ``Node``. kubelet calls the driver with it, and the
  local node (:mod:`kvcsi.node`) is a CSI client of it.
- :mod:`kvcsi._proto.provider_pb2` / :mod:`kvcsi._proto.provider_pb2_grpc`: the provider plugin
  API, package ``v1alpha1`` (upstream ``secrets-store-csi-driver``
  ``provider/v1alpha1/service.proto``): service ``CSIDriverProvider`` with ``Version`` and
  ``Mount``. The driver calls the provider with it.

The ``.proto`` files beside the stubs are written for kvcsi with the upstream names and field
numbers; ``scripts/gen-protos`` regenerates the stubs and ``tests/test_protos_current.py`` fails
when they drift. See ``README.md`` in this directory for provenance. Nothing here is
hand-edited.
"""
