"""BB-03, driver side: a provider that returns traversal paths gets nothing written.

The Azure provider already refuses these names (test_bb03_path_traversal.py); the driver
checks again before writing, because any provider can answer anything. Here a scripted
provider returns each variant as ``File.path`` to the real driver, run by the local node
runtime (kubelet) on real tmpfs: every variant fails the mount with the driver's text, the
target stays empty and unmounted, and nothing appears where the path would have led;
``dir/file`` (the positive control) lands at ``<target>/dir/file``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from csi_local_node import LocalCsiNode, ScriptedProvider

pytestmark = [pytest.mark.e2e, pytest.mark.requires_root]

VARIANTS = {
    "up": ("../../../../../tmp/pwned", "invalid path: must not contain '..': "
           "../../../../../tmp/pwned"),
    "absolute": ("/etc/cron.d/kvcsi-bb03", "invalid path: must be relative path: "
                 "/etc/cron.d/kvcsi-bb03"),
    "hidden": ("..hidden", "invalid path: must not start with '..': ..hidden"),
    "inner-up": ("a/../../b", "invalid path: must not contain '..': a/../../b"),
    "dot-slash": ("./a", 'invalid filepath: "./a"'),
    "double-slash": ("a//b", 'invalid filepath: "a//b"'),
    "trailing-slash": ("a/", 'invalid filepath: "a/"'),
    "object-name": ("../x", "invalid path: must not contain '..': ../x"),
}


@pytest.fixture(scope="module")
def node() -> Iterator[LocalCsiNode]:
    if os.geteuid() != 0:
        pytest.skip("needs root: real tmpfs and the node runtime's mount namespaces")
    local = LocalCsiNode()
    local.serve_provider("scripted", ScriptedProvider(
        lambda parameters: [(parameters["filePath"], 0o644, b"pwned")]))
    try:
        yield local
    finally:
        local.close()


def test_every_traversal_variant_is_refused_before_writing(node: LocalCsiNode) -> None:
    for key, (path, _message) in VARIANTS.items():
        node.add_spc(f"bb03-{key}", "scripted", {"filePath": path})
        node.add_pod(f"bb03-{key}", f"bb03-{key}")
    node.add_spc("bb03-control", "scripted", {"filePath": "dir/file"})
    node.add_pod("bb03-control", "bb03-control")

    node.wait_running("bb03-control")
    control = node.target("bb03-control")
    assert (control / "dir" / "file").read_bytes() == b"pwned"
    assert os.readlink(control / "dir") == "..data/dir"
    assert os.path.ismount(control)

    for key, (path, message) in VARIANTS.items():
        pod = f"bb03-{key}"
        event = node.wait_failed_mount(pod, "failed to mount secrets store objects")
        assert event == (
            f'MountVolume.SetUp failed for volume "secrets-store01-inline" : rpc error: code '
            f"= Unknown desc = failed to mount secrets store objects for pod default/{pod}, "
            f"err: {message}"
        )
        target = node.target(pod)
        assert not os.path.ismount(target)
        assert not target.exists() or list(target.iterdir()) == []
        # where the path would have led, had it been joined and written
        escaped = os.path.normpath(os.path.join(target, path)) if not path.startswith("/") \
            else path
        if not escaped.startswith(str(target) + "/"):
            assert not os.path.lexists(escaped), escaped
        assert node.phase(pod) == "Pending"
    assert not os.path.lexists("/tmp/pwned")
