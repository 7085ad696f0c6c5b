"""File safety: path and mode rules before writing, contained read-back, the ..data link."""

from __future__ import annotations

import os

import grpc
import pytest

from kvcsi._proto import csi_pb2
from kvcsi.driver.atomic_writer import FileProjection, write_payload

from .driver_process import POD_NAME, publish_request, target_path

PREFIX = f"failed to mount secrets store objects for pod default/{POD_NAME}, err: "


def tree(directory: str) -> set[str]:
    """Every path below ``directory`` (symlinks not followed)."""
    found = set()
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            found.add(os.path.join(root, name))
    return found


REFUSED = [
    ("../../../../../tmp/pwned", "invalid path: must not contain '..': ../../../../../tmp/pwned"),
    ("/etc/cron.d/x", "invalid path: must be relative path: /etc/cron.d/x"),
    ("..hidden", "invalid path: must not start with '..': ..hidden"),
    ("..data/x", "invalid path: must not start with '..': ..data/x"),
    ("a/../../b", "invalid path: must not contain '..': a/../../b"),
    ("./a", 'invalid filepath: "./a"'),
    ("a//b", 'invalid filepath: "a//b"'),
    ("a/", 'invalid filepath: "a/"'),
    ("", 'invalid path: must not be empty: ""'),
    ("a" * 256, "invalid path: filenames must be less than or equal to 255 characters"),
]


@pytest.mark.parametrize(("bad_path", "message"), REFUSED, ids=[p[:20] or "empty" for p, _ in
                                                                  REFUSED])
def test_unsafe_paths_are_refused_before_anything_is_written(csi_driver, module_setup,
                                                             bad_path, message):
    target = target_path(module_setup.kubelet_dir, "unsafe")
    os.makedirs(os.path.dirname(target), exist_ok=True)  # kubelet makes the volume dir
    before = tree(module_setup.base)
    module_setup.provider.files = [("good", 0o644, b"ok"), (bad_path, 0o644, b"evil")]
    try:
        with pytest.raises(grpc.RpcError) as raised:
            csi_driver.node.NodePublishVolume(publish_request(target), timeout=30)
    finally:
        module_setup.provider.files = [("username", 0o644, b"admin")]
    assert raised.value.code() == grpc.StatusCode.UNKNOWN
    assert raised.value.details() == PREFIX + message
    assert not os.path.exists("/tmp/pwned")
    after = tree(module_setup.base)
    assert {path for path in after - before if not path.startswith(target)} == set()
    assert not os.path.lexists(os.path.join(target, "good"))  # nothing written at all
    assert not os.path.ismount(target)  # the failed first publish unmounted


@pytest.mark.parametrize(("mode", "shown"), [(0o1777, 1023), (0o4755, 2541), (-1, -1),
                                             (0o2000, 1024)])
def test_modes_outside_0_to_0777_are_refused(csi_driver, module_setup, mode, shown):
    target = target_path(module_setup.kubelet_dir, "mode")
    module_setup.provider.files = [("x", mode, b"data")]
    try:
        with pytest.raises(grpc.RpcError) as raised:
            csi_driver.node.NodePublishVolume(publish_request(target), timeout=30)
    finally:
        module_setup.provider.files = [("username", 0o644, b"admin")]
    assert raised.value.details() == (
        PREFIX + f'invalid file mode for "x": {shown} is outside 0..511 (0o777)'
    )


def test_nested_path_is_allowed_inside_the_target(csi_driver, module_setup):
    target = target_path(module_setup.kubelet_dir, "nested")
    module_setup.provider.files = [("dir/file", 0o600, b"nested")]
    try:
        csi_driver.node.NodePublishVolume(publish_request(target), timeout=30)
    finally:
        module_setup.provider.files = [("username", 0o644, b"admin")]
    with open(os.path.join(target, "dir", "file"), "rb") as mounted:
        assert mounted.read() == b"nested"
    assert os.readlink(os.path.join(target, "dir")) == "..data/dir"
    assert oct(os.stat(os.path.join(target, "dir", "file")).st_mode & 0o7777) == oct(0o600)
    csi_driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-n", target_path=target), timeout=10
    )


# -- the atomic writer's own read-back ------------------------------------------------------


def test_identical_content_is_skipped_and_leaves_the_directory_alone(tmp_path):
    payload = {"a": FileProjection(b"1", 0o644), "d/b": FileProjection(b"2", 0o600)}
    assert write_payload(str(tmp_path), payload) is True
    data_link = os.readlink(tmp_path / "..data")
    stamp = os.stat(tmp_path).st_mtime_ns
    assert write_payload(str(tmp_path), dict(payload)) is False
    assert os.readlink(tmp_path / "..data") == data_link
    assert os.stat(tmp_path).st_mtime_ns == stamp


def test_a_planted_symlink_inside_the_data_dir_is_never_read_through(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"host secret")
    target = tmp_path / "target"
    target.mkdir()
    payload = {"a": FileProjection(b"host secret", 0o644)}
    write_payload(str(target), payload)
    current = target / os.readlink(target / "..data")
    os.remove(current / "a")
    os.symlink(outside / "secret", current / "a")  # same bytes, but through a link
    assert write_payload(str(target), payload) is True  # treated as changed, rewritten
    assert not os.path.islink(target / "..data" / "a")
    assert (target / "a").read_bytes() == b"host secret"
    assert (outside / "secret").read_bytes() == b"host secret"


def test_a_planted_data_link_out_of_the_target_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a").write_bytes(b"precious")
    (outside / "..old").mkdir()
    target = tmp_path / "target"
    target.mkdir()
    os.symlink(str(outside), target / "..data")  # absolute link planted by someone else
    assert write_payload(str(target), {"a": FileProjection(b"new", 0o644)}) is True
    assert (outside / "a").read_bytes() == b"precious"  # neither compared nor deleted
    assert (outside / "..old").is_dir()
    assert os.readlink(target / "..data").startswith("..") and "/" not in os.readlink(
        target / "..data")
    assert (target / "a").read_bytes() == b"new"
