"""BB-12: ``secretObjects`` must name the mounted file (the alias), end to end through ``kvcsi``.

With ``objectName: MySecret`` while the file is ``db-password`` the mount succeeds, no Secret
appears and the pod gets ``FailedToCreateSecret`` naming the missing file and listing the
files present. Corrected to ``db-password``, the Secret appears (exact bytes, labels, owner)
while the pod runs, and goes with the pod.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.cases.kvcsi_rotation_world import POD_YAML, RotationWorld, build_world

pytestmark = pytest.mark.e2e

EXPECTED_EVENT = (
    "failed to get data in spc myns/my-spc for secret app-secret, err: file matching "
    "objectName MySecret not found in the pod (files in the volume: db-password)"
)


@pytest.fixture(scope="module")
def sync_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RotationWorld]:
    world = build_world(tmp_path_factory.mktemp("bb12") / "home")
    try:
        yield world
    finally:
        world.stop()


def test_sync_names_the_alias_and_reports_the_files_present(sync_world: RotationWorld) -> None:
    world = sync_world
    world.apply_spc("MySecret")
    world.apply(POD_YAML)
    world.kubectl("wait", "--for=condition=Ready", "pod/mypod", "-n", "myns", "--timeout=90s")

    def failed_event() -> list[dict]:
        return [e for e in world.pod_events() if e["reason"] == "FailedToCreateSecret"]

    world.kvcsi.wait_for(lambda: bool(failed_event()), timeout=20)
    event = failed_event()[0]
    assert (event["type"], event["message"]) == ("Warning", EXPECTED_EVENT)
    assert event["source"]["component"] == "csi-secrets-store-controller"
    missing = world.kubectl("get", "secret", "app-secret", "-n", "myns", check=False)
    assert missing.returncode == 1
    assert 'secrets "app-secret" not found' in missing.stderr
    describe = world.kubectl("describe", "pod", "mypod", "-n", "myns").stdout
    assert "FailedToCreateSecret" in describe

    world.apply_spc("db-password")  # the fix: the alias, i.e. the file name

    def synced() -> bool:
        return world.kubectl("get", "secret", "app-secret", "-n", "myns",
                             check=False).returncode == 0

    world.kvcsi.wait_for(synced, timeout=30)
    secret = world.get("secret", "app-secret", "-n", "myns")
    pod = world.get("pod", "mypod", "-n", "myns")
    assert secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["password"]) == b"s3cr3t"
    assert secret["metadata"]["labels"] == {"team": "a",
                                            "secrets-store.csi.k8s.io/managed": "true"}
    assert secret["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": "mypod", "uid": pod["metadata"]["uid"]}]

    world.kubectl("delete", "pod", "mypod", "-n", "myns")
    world.kvcsi.wait_for(lambda: not synced(), timeout=30)
