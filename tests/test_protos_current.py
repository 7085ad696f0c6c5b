"""The checked-in gRPC stubs match their .proto files, and the wire facts others rely on hold.

Counterparts: ``scripts/gen-protos`` (regeneration) and ``src/kvcsi/_proto`` (the contracts:
CSI ``csi.v1`` and the Secrets Store CSI driver provider API ``v1alpha1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.descriptor import FieldDescriptor

from kvcsi._proto import csi_pb2, csi_pb2_grpc, provider_pb2, provider_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = REPO_ROOT / "src" / "kvcsi" / "_proto"
GENERATED = [
    "csi_pb2.py",
    "csi_pb2.pyi",
    "csi_pb2_grpc.py",
    "provider_pb2.py",
    "provider_pb2.pyi",
    "provider_pb2_grpc.py",
]


def _field_table(message_descriptor) -> dict[str, tuple[int, int, str]]:
    """Map field name -> (number, type, label) for a message descriptor."""
    table = {}
    for field in message_descriptor.fields:
        label = "repeated" if field.is_repeated else "single"
        table[field.name] = (field.number, field.type, label)
    return table


# ------------------------------------------------------------------ drift


def test_gen_protos_script_is_executable() -> None:
    assert os.access(REPO_ROOT / "scripts" / "gen-protos", os.X_OK)


def test_checked_in_stubs_match_regenerated_output(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "gen-protos"), str(tmp_path)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    regenerated_dir = tmp_path / "kvcsi" / "_proto"
    assert sorted(p.name for p in regenerated_dir.iterdir()) == sorted(GENERATED)
    drifted = [
        name
        for name in GENERATED
        if (regenerated_dir / name).read_bytes() != (PROTO_DIR / name).read_bytes()
    ]
    assert drifted == [], f"stale generated stubs, run scripts/gen-protos: {drifted}"


def test_generated_modules_import_each_other_through_the_package() -> None:
    for name in ("csi_pb2_grpc.py", "provider_pb2_grpc.py"):
        text = (PROTO_DIR / name).read_text()
        stem = name.removesuffix("_grpc.py")
        assert f"from kvcsi._proto import {stem} as " in text


# ------------------------------------------------------------- provider API


def test_provider_service_methods_and_paths() -> None:
    service = provider_pb2.DESCRIPTOR.services_by_name["CSIDriverProvider"]
    assert service.full_name == "v1alpha1.CSIDriverProvider"
    paths = {
        f"/{service.full_name}/{m.name}": (m.input_type.name, m.output_type.name)
        for m in service.methods
    }
    assert paths == {
        "/v1alpha1.CSIDriverProvider/Version": ("VersionRequest", "VersionResponse"),
        "/v1alpha1.CSIDriverProvider/Mount": ("MountRequest", "MountResponse"),
    }


def test_provider_message_fields() -> None:
    string, int32, bytes_, message = (
        FieldDescriptor.TYPE_STRING,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_BYTES,
        FieldDescriptor.TYPE_MESSAGE,
    )
    expected = {
        "VersionRequest": {"version": (1, string, "single")},
        "VersionResponse": {
            "version": (1, string, "single"),
            "runtime_name": (2, string, "single"),
            "runtime_version": (3, string, "single"),
        },
        "MountRequest": {
            "attributes": (1, string, "single"),
            "secrets": (2, string, "single"),
            "target_path": (3, string, "single"),
            "permission": (4, string, "single"),
            "current_object_version": (5, message, "repeated"),
        },
        "MountResponse": {
            "object_version": (1, message, "repeated"),
            "error": (2, message, "single"),
            "files": (3, message, "repeated"),
        },
        "File": {
            "path": (1, string, "single"),
            "mode": (2, int32, "single"),
            "contents": (3, bytes_, "single"),
        },
        "ObjectVersion": {"id": (1, string, "single"), "version": (2, string, "single")},
        "Error": {"code": (1, string, "single")},
    }
    messages = provider_pb2.DESCRIPTOR.message_types_by_name
    assert sorted(messages) == sorted(expected)
    for name, fields in expected.items():
        assert _field_table(messages[name]) == fields, name


def test_provider_encodings_are_exact() -> None:
    request = provider_pb2.MountRequest(attributes="{}", secrets="null", permission="420")
    assert request.SerializeToString() == b'\n\x02{}\x12\x04null"\x03420'
    file = provider_pb2.File(path="a", mode=0o644, contents=b"x")
    assert file.SerializeToString() == b"\n\x01a\x10\xa4\x03\x1a\x01x"
    response = provider_pb2.MountResponse(
        object_version=[provider_pb2.ObjectVersion(id="secret/s", version="v1")],
        error=provider_pb2.Error(code="E"),
    )
    assert response.SerializeToString() == (b"\n\x0e\n\x08secret/s\x12\x02v1" + b"\x12\x03\n\x01E")


# --------------------------------------------------------------------- CSI


def test_csi_services_and_node_methods() -> None:
    services = csi_pb2.DESCRIPTOR.services_by_name
    assert sorted(s.full_name for s in services.values()) == [
        "csi.v1.Controller",
        "csi.v1.Identity",
        "csi.v1.Node",
    ]
    assert [m.name for m in services["Identity"].methods] == [
        "GetPluginInfo",
        "GetPluginCapabilities",
        "Probe",
    ]
    node_methods = {m.name for m in services["Node"].methods}
    assert {
        "NodeStageVolume",
        "NodeUnstageVolume",
        "NodePublishVolume",
        "NodeUnpublishVolume",
        "NodeGetVolumeStats",
        "NodeExpandVolume",
        "NodeGetCapabilities",
        "NodeGetInfo",
    } <= node_methods
    controller_methods = {m.name for m in services["Controller"].methods}
    assert {
        "CreateVolume",
        "DeleteVolume",
        "ControllerPublishVolume",
        "ControllerUnpublishVolume",
        "ValidateVolumeCapabilities",
        "ListVolumes",
        "GetCapacity",
        "ControllerGetCapabilities",
        "CreateSnapshot",
        "DeleteSnapshot",
        "ListSnapshots",
        "GetSnapshot",
        "ControllerExpandVolume",
        "ControllerGetVolume",
        "ControllerModifyVolume",
    } <= controller_methods


def test_node_publish_and_unpublish_fields() -> None:
    messages = csi_pb2.DESCRIPTOR.message_types_by_name
    publish = _field_table(messages["NodePublishVolumeRequest"])
    assert {name: number for name, (number, _, _) in publish.items()} == {
        "volume_id": 1,
        "publish_context": 2,
        "staging_target_path": 3,
        "target_path": 4,
        "volume_capability": 5,
        "readonly": 6,
        "secrets": 7,
        "volume_context": 8,
    }
    unpublish = _field_table(messages["NodeUnpublishVolumeRequest"])
    assert {name: number for name, (number, _, _) in unpublish.items()} == {
        "volume_id": 1,
        "target_path": 2,
    }
    info = _field_table(messages["NodeGetInfoResponse"])
    assert {name: number for name, (number, _, _) in info.items()} == {
        "node_id": 1,
        "max_volumes_per_node": 2,
        "accessible_topology": 3,
    }


def test_csi_enum_values() -> None:
    rpc_type = csi_pb2.NodeServiceCapability.RPC
    assert rpc_type.STAGE_UNSTAGE_VOLUME == 1
    assert rpc_type.GET_VOLUME_STATS == 2
    assert rpc_type.VOLUME_MOUNT_GROUP == 6
    assert csi_pb2.PluginCapability.Service.CONTROLLER_SERVICE == 1
    assert csi_pb2.PluginCapability.Service.VOLUME_ACCESSIBILITY_CONSTRAINTS == 2
    assert csi_pb2.ControllerServiceCapability.RPC.UNKNOWN == 0
    assert csi_pb2.ControllerServiceCapability.RPC.MODIFY_VOLUME == 14
    mode = csi_pb2.VolumeCapability.AccessMode
    assert [mode.Mode.Name(n) for n in range(8)] == [
        "UNKNOWN",
        "SINGLE_NODE_WRITER",
        "SINGLE_NODE_READER_ONLY",
        "MULTI_NODE_READER_ONLY",
        "MULTI_NODE_SINGLE_WRITER",
        "MULTI_NODE_MULTI_WRITER",
        "SINGLE_NODE_SINGLE_WRITER",
        "SINGLE_NODE_MULTI_WRITER",
    ]


def test_csi_encodings_are_exact() -> None:
    capability = csi_pb2.VolumeCapability(
        mount=csi_pb2.VolumeCapability.MountVolume(),
        access_mode=csi_pb2.VolumeCapability.AccessMode(
            mode=csi_pb2.VolumeCapability.AccessMode.SINGLE_NODE_READER_ONLY
        ),
    )
    assert capability.SerializeToString() == b"\x12\x00\x1a\x02\x08\x02"
    request = csi_pb2.NodePublishVolumeRequest(
        volume_id="v", target_path="/t", readonly=True, volume_context={"k": "v"}
    )
    assert request.SerializeToString() == (
        b"\n\x01v" + b'"\x02/t' + b"0\x01" + b"B\x06\n\x01k\x12\x01v"
    )
    probe = csi_pb2.ProbeResponse()
    probe.ready.value = True
    assert probe.SerializeToString() == b"\n\x02\x08\x01"


# ------------------------------------------------------------ stub method paths


class _RecordingChannel:
    """A stand-in channel that records the method paths a generated stub binds."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def unary_unary(self, path: str, *args, **kwargs):
        self.paths.append(path)
        return lambda *a, **k: None

    unary_stream = stream_unary = stream_stream = unary_unary


@pytest.mark.parametrize(
    ("stub_class", "expected_path"),
    [
        (provider_pb2_grpc.CSIDriverProviderStub, "/v1alpha1.CSIDriverProvider/Mount"),
        (provider_pb2_grpc.CSIDriverProviderStub, "/v1alpha1.CSIDriverProvider/Version"),
        (csi_pb2_grpc.NodeStub, "/csi.v1.Node/NodePublishVolume"),
        (csi_pb2_grpc.NodeStub, "/csi.v1.Node/NodeUnpublishVolume"),
        (csi_pb2_grpc.IdentityStub, "/csi.v1.Identity/GetPluginInfo"),
        (csi_pb2_grpc.ControllerStub, "/csi.v1.Controller/ControllerGetCapabilities"),
    ],
)
def test_stubs_call_the_upstream_method_paths(stub_class, expected_path: str) -> None:
    channel = _RecordingChannel()
    stub_class(channel)
    assert expected_path in channel.paths
