"""The CVE-2020-8568 guard on SecretProviderClassPodStatus target paths."""

from __future__ import annotations

import os

import pytest

from kvcsi.driver.pod_status import UnexpectedTargetPath, check_status_target_path

DRIVER = "secrets-store.csi.k8s.io"
UID = "7d3a9c1e-5b2f-4e8a-9c6d-1f0e2d3c4b5a"
PODS = "/var/lib/kubelet/pods"
GOOD = f"{PODS}/{UID}/volumes/kubernetes.io~csi/secrets-store-inline/mount"


def pod(uid: str = UID) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "uid": uid},
        "spec": {"volumes": [
            {"name": "secrets-store-inline", "csi": {
                "driver": DRIVER, "readOnly": True,
                "volumeAttributes": {"secretProviderClass": "azure-kv"}}},
            {"name": "other-spc", "csi": {
                "driver": DRIVER, "volumeAttributes": {"secretProviderClass": "other"}}},
            {"name": "other-driver", "csi": {
                "driver": "example.csi.k8s.io",
                "volumeAttributes": {"secretProviderClass": "azure-kv"}}},
        ]},
    }


def test_the_pods_own_volume_is_accepted():
    assert check_status_target_path(GOOD, pod(), "azure-kv", DRIVER, PODS) == GOOD
    assert check_status_target_path(GOOD, pod(), "azure-kv", DRIVER) == GOOD


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/etc/kubernetes", "not a kubelet CSI volume mount path"),
        (f"{PODS}/{UID}/volumes/kubernetes.io~secret/token/mount",
         "not a kubelet CSI volume mount path"),
        (f"{PODS}/other-uid/volumes/kubernetes.io~csi/secrets-store-inline/mount",
         "pod uid does not match default/web"),
        (f"{PODS}/{UID}/volumes/kubernetes.io~csi/other-spc/mount",
         "no volume 'other-spc' of this pod uses azure-kv"),
        (f"{PODS}/{UID}/volumes/kubernetes.io~csi/other-driver/mount",
         "no volume 'other-driver' of this pod uses azure-kv"),
        (f"{PODS}/x/../{UID}/volumes/kubernetes.io~csi/secrets-store-inline/mount",
         "not an absolute, clean path"),
        (f"{PODS}//{UID}/volumes/kubernetes.io~csi/secrets-store-inline/mount",
         "not an absolute, clean path"),
        (f"relative/pods/{UID}/volumes/kubernetes.io~csi/secrets-store-inline/mount",
         "not an absolute, clean path"),
        (f"/tmp/evil/pods/{UID}/volumes/kubernetes.io~csi/secrets-store-inline/mount",
         f"outside the kubelet pods directory {PODS}"),
        (f"{PODS}|{UID}|volumes|kubernetes.io~csi|secrets-store-inline|mount",
         "not a kubelet CSI volume mount path"),
    ],
)
def test_other_targets_are_refused(target, reason):
    with pytest.raises(UnexpectedTargetPath) as raised:
        check_status_target_path(target, pod(), "azure-kv", DRIVER, PODS)
    assert str(raised.value) == f"unexpected target path {target!r}: {reason}"
    assert raised.value.error_type == "UnexpectedTargetPath"


def test_a_symlink_inside_the_pod_directory_is_refused(tmp_path):
    pods = tmp_path / "pods"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "kubernetes.io~csi" / "secrets-store-inline" / "mount").mkdir(parents=True)
    (pods / UID).mkdir(parents=True)
    os.symlink(elsewhere, pods / UID / "volumes")
    target = f"{pods}/{UID}/volumes/kubernetes.io~csi/secrets-store-inline/mount"
    with pytest.raises(UnexpectedTargetPath) as raised:
        check_status_target_path(target, pod(), "azure-kv", DRIVER, str(pods))
    assert str(raised.value).endswith("the path passes through a symbolic link")
