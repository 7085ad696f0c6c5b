"""Publishing onto a real tmpfs (root only) and reading /proc/self/mountinfo."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator

import grpc
import pytest

from kvcsi._proto import csi_pb2
from kvcsi.driver.mounter import TmpfsMounter, filesystem_type, is_mount_point, mount_points

from .harness import DriverHarness, make_driver

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="tmpfs mounts need root")
TMPFS_SIZE = 9 * 1024 * 1024


def mount_options(path: str) -> str:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo", encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if fields[4] == real:
                return fields[fields.index("-", 6) + 3]
    raise AssertionError(f"{path} is not mounted")


def test_mountinfo_parsing_unescapes_octal(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(
        "22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "45 22 0:40 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/my\\040vol/mount "
        "rw,relatime shared:5 - tmpfs tmpfs rw,size=9216k,mode=755\n"
    )
    assert mount_points(str(info)) == {
        "/": "ext4",
        "/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/my vol/mount": "tmpfs",
    }
    assert is_mount_point("/", str(info)) is True
    assert is_mount_point("/var", str(info)) is False


@pytest.fixture
def tmpfs_driver() -> Iterator[DriverHarness]:
    yield from make_driver(TmpfsMounter(TMPFS_SIZE))


@pytest.mark.requires_root
@needs_root
def test_publish_mounts_tmpfs_and_unpublish_unmounts(tmpfs_driver):
    driver = tmpfs_driver
    driver.provider.files = [("username", 0o440, b"admin")]

    driver.node.NodePublishVolume(driver.publish_request())

    target = driver.target()
    assert filesystem_type(target) == "tmpfs"
    assert "size=9216k" in mount_options(target) and "mode=755" in mount_options(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o755
    with open(os.path.join(target, "username"), "rb") as f:
        assert f.read() == b"admin"
    assert stat.S_IMODE(os.stat(os.path.join(target, "username")).st_mode) == 0o440

    driver.node.NodePublishVolume(driver.publish_request())  # idempotent: still one mount
    assert len(driver.provider.requests) == 1
    assert sum(1 for p in mount_points() if p == os.path.realpath(target)) == 1

    driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-0123", target_path=target)
    )
    assert not is_mount_point(target)
    assert not os.path.lexists(target)


@pytest.mark.requires_root
@needs_root
def test_failed_first_publish_unmounts_what_it_mounted(tmpfs_driver):
    driver = tmpfs_driver
    driver.provider.files = [("../escape", 0o644, b"pwned")]

    with pytest.raises(grpc.RpcError) as raised:
        driver.node.NodePublishVolume(driver.publish_request())

    assert raised.value.details().endswith("err: invalid path: must not contain '..': ../escape")
    assert not is_mount_point(driver.target())
    assert os.listdir(driver.target()) == []


@pytest.mark.requires_root
@needs_root
def test_preexisting_mount_counts_as_mounted(tmpfs_driver):
    driver = tmpfs_driver
    target = driver.target()
    os.makedirs(target)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", target], check=True)
    # a mounted but empty, readable tmpfs counts as mounted: republish is a no-op
    driver.node.NodePublishVolume(driver.publish_request())
    assert driver.provider.requests == []
    subprocess.run(["umount", target], check=True)
