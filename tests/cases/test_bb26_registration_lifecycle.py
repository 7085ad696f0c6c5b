"""BB-26: driver/provider registration lifecycle on a local node, real driver, real tmpfs.

(b) no provider on the node and (c) a provider that listens only in the old directory
(``/etc/kubernetes/secrets-store-csi-providers``, the node's ``etc-providers``) come first;
(a) restarts the driver while pods come and go:

- kvcsi's driver searches both upstream directories (the old one first, as upstream), so (c)
  mounts; with no socket in either, the error names the provider and every path tried.
- While the driver is gone (its DaemonSet deleted, as during a chart upgrade), a new pod gets
  kubelet's "not found in the list of registered CSI drivers", existing tmpfs mounts keep
  serving their files, and a pod deleted meanwhile is torn down; once the DaemonSet is back
  the pending pod mounts with no manual step. A driver killed outright is restarted by the
  supervisor and the next pod mounts too.
"""

from __future__ import annotations

import copy
import os
import signal
from collections.abc import Iterator

import pytest
from csi_local_node import LocalCsiNode, ScriptedProvider

from kvcsi.node.plugins import LONGEST_PROVIDER_SOCKET
from kvcsi.node.socket_paths import short_dir
from tests.node.node_harness import CLUSTER, NODE, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.requires_root]

NOT_REGISTERED = ("kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name "
                  "secrets-store.csi.k8s.io not found in the list of registered CSI drivers")
BOUND_SECONDS = 30  # the case allows 2 minutes; the local node is faster


def admin_file(parameters: dict[str, str]) -> list[tuple[str, int, bytes]]:
    return [("username", 0o644, parameters.get("content", "admin").encode())]


@pytest.fixture(scope="module")
def node() -> Iterator[LocalCsiNode]:
    if os.geteuid() != 0:
        pytest.skip("needs root: real tmpfs and the node runtime's mount namespaces")
    local = LocalCsiNode()
    try:
        yield local
    finally:
        local.close()


def read(node: LocalCsiNode, pod: str) -> bytes:
    return (node.target(pod) / "username").read_bytes()


def test_b_no_provider_on_the_node_names_the_paths_tried(node: LocalCsiNode) -> None:
    node.add_spc("bb26-azure", "azure", {"keyvaultName": "kv1"})
    node.add_pod("bb26-no-provider", "bb26-azure")
    old_dir = short_dir(node.node.additional_provider_dir, LONGEST_PROVIDER_SOCKET)
    new_dir = short_dir(node.node.provider_dir, LONGEST_PROVIDER_SOCKET)
    event = node.wait_failed_mount("bb26-no-provider", "provider not found")
    assert event == (
        'MountVolume.SetUp failed for volume "secrets-store01-inline" : rpc error: code = '
        "Unknown desc = failed to mount secrets store objects for pod "
        'default/bb26-no-provider, err: error connecting to provider "azure": provider not '
        f'found: provider "azure" (looked for {old_dir}/azure.sock, {new_dir}/azure.sock)'
    )
    assert node.phase("bb26-no-provider") == "Pending"


def test_c_provider_only_in_the_old_directory_is_found(node: LocalCsiNode) -> None:
    provider = ScriptedProvider(admin_file)
    node.serve_provider("oldplace", provider, node.node.additional_provider_dir)
    node.add_spc("bb26-old", "oldplace", {"content": "from-etc"})
    node.add_pod("bb26-old-dir", "bb26-old")
    node.wait_running("bb26-old-dir")
    assert read(node, "bb26-old-dir") == b"from-etc"
    assert provider.calls and provider.calls[0]["content"] == "from-etc"


def test_a_driver_restart_while_pods_come_and_go(node: LocalCsiNode) -> None:
    node.serve_provider("fake", ScriptedProvider(admin_file))
    node.add_spc("bb26", "fake", {"content": "admin"})
    for pod in ("bb26-before", "bb26-deleted"):
        node.add_pod(pod, "bb26")
    node.wait_running("bb26-before", "bb26-deleted")
    before, deleted = node.target("bb26-before"), node.target("bb26-deleted")
    assert os.path.ismount(before) and os.path.ismount(deleted)

    plugins = node.env.runtime.clusters[CLUSTER].plugins
    daemonset = node.store.get("apps/v1", "DaemonSet", "kube-system", "csi-secrets-store")
    node.store.delete("apps/v1", "DaemonSet", "kube-system", "csi-secrets-store")
    wait_for(lambda: (NODE, "driver") not in plugins.running(), timeout=BOUND_SECONDS)

    node.add_pod("bb26-during", "bb26")
    event = node.wait_failed_mount("bb26-during", "not found in the list of registered")
    assert event == f'MountVolume.SetUp failed for volume "secrets-store01-inline" : ' \
                    f"{NOT_REGISTERED}"
    node.store.delete("v1", "Pod", "default", "bb26-deleted")
    assert read(node, "bb26-before") == b"admin"  # tmpfs outlives the driver
    assert os.path.ismount(before)

    recreated = copy.deepcopy(daemonset)
    for key in ("resourceVersion", "uid", "creationTimestamp", "generation"):
        recreated["metadata"].pop(key, None)
    recreated.pop("status", None)
    node.store.create(recreated)
    node.wait_running("bb26-during", timeout=BOUND_SECONDS)
    assert read(node, "bb26-during") == b"admin"
    wait_for(lambda: node.phase("bb26-deleted") == "", timeout=BOUND_SECONDS)
    assert not os.path.ismount(deleted) and not deleted.exists()
    assert read(node, "bb26-before") == b"admin"

    driver = wait_for(lambda: plugins.running().get((NODE, "driver")), timeout=BOUND_SECONDS)
    os.kill(driver.pid, signal.SIGKILL)  # a crash: the supervisor restarts it
    node.add_pod("bb26-after-crash", "bb26")
    node.wait_running("bb26-after-crash", timeout=BOUND_SECONDS)
    assert read(node, "bb26-after-crash") == b"admin"
    assert driver.restarts >= 1
