"""NodePublishVolume / NodeUnpublishVolume end to end over real unix sockets.

kubelet's side is a CSI client on the driver's socket, the provider is a fake
CSIDriverProvider on its own socket, and the cluster is a fake store. These tests use the
plain-directory mounter so they run with or without root; tmpfs is covered in test_tmpfs.py.
"""

from __future__ import annotations

import json
import os
import stat

import grpc
import pytest

from kvcsi._proto import csi_pb2
from kvcsi.driver.mounter import DirectoryMounter
from kvcsi.driver.publisher import PublisherConfig

from .harness import NODE_ID, POD_UID, SPC_GROUP, make_driver

POD = "busybox-secrets-store-inline"
MOUNT_ERROR_PREFIX = f"failed to mount secrets store objects for pod default/{POD}, err: "


def publish_error(driver, request) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as raised:
        driver.node.NodePublishVolume(request)
    return raised.value.code(), raised.value.details()


def tree(root: str) -> dict[str, str]:
    """Every entry under root: symlinks as '-> target', files as 'file 0oMODE', dirs 'dir'."""
    entries: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = "-> " + os.readlink(path)
            elif stat.S_ISDIR(info.st_mode):
                entries[rel] = f"dir {oct(stat.S_IMODE(info.st_mode))}"
            else:
                entries[rel] = f"file {oct(stat.S_IMODE(info.st_mode))}"
    return entries


def test_publish_writes_provider_files_atomically_and_records_pod_status(driver):
    driver.provider.files = [
        ("username", 0o644, b"admin\n"),
        ("certs/tls.crt", 0o400, b"-----BEGIN CERTIFICATE-----\n"),
    ]
    driver.provider.versions = [("secret/username", "v2"), ("cert/tls", "v7")]

    assert driver.node.NodePublishVolume(driver.publish_request()) == (
        csi_pb2.NodePublishVolumeResponse()
    )

    target = driver.target()
    with open(os.path.join(target, "username"), "rb") as f:
        assert f.read() == b"admin\n"
    with open(os.path.join(target, "certs", "tls.crt"), "rb") as f:
        assert f.read() == b"-----BEGIN CERTIFICATE-----\n"
    layout = tree(target)
    ts_dir = os.readlink(os.path.join(target, "..data"))
    assert ts_dir.startswith("..") and ts_dir != "..data"
    assert layout == {
        "..data": f"-> {ts_dir}",
        "username": "-> ..data/username",
        "certs": "-> ..data/certs",
        ts_dir: "dir 0o755",
        f"{ts_dir}/username": "file 0o644",
        f"{ts_dir}/certs": f"dir {oct(0o777 & ~_umask())}",
        f"{ts_dir}/certs/tls.crt": "file 0o400",
    }
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700  # plain-directory fallback

    status = driver.store.pod_status(f"{POD}-default-azure-kv")
    assert status == {
        "apiVersion": f"{SPC_GROUP}/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": f"{POD}-default-azure-kv",
            "namespace": "default",
            "labels": {"internal.secrets-store.csi.k8s.io/node-name": NODE_ID},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": POD, "uid": POD_UID}],
        },
        "status": {
            "podName": POD,
            "secretProviderClassName": "azure-kv",
            "mounted": True,
            "targetPath": target,
            "objects": [
                {"id": "cert/tls", "version": "v7"},
                {"id": "secret/username", "version": "v2"},
            ],
        },
    }


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_mount_request_carries_attributes_secrets_and_permission(driver):
    driver.store.add_spc(
        parameters={"keyvaultName": "kv1", "tenantId": "t1", "usePodIdentity": "false"}
    )
    request = driver.publish_request(volume_context_extra={"tenantId": "from-pod"})

    driver.node.NodePublishVolume(request)

    [mount] = driver.provider.requests
    attributes = json.loads(mount.attributes)
    assert attributes == {
        "keyvaultName": "kv1",
        "tenantId": "from-pod",  # the volume context overrides SPC parameters
        "usePodIdentity": "false",
        "secretProviderClass": "azure-kv",
        "csi.storage.k8s.io/pod.name": POD,
        "csi.storage.k8s.io/pod.namespace": "default",
        "csi.storage.k8s.io/pod.uid": POD_UID,
        "csi.storage.k8s.io/serviceAccount.name": "default",
        "csi.storage.k8s.io/ephemeral": "true",
    }
    assert mount.secrets == "null"
    assert mount.permission == "420"
    assert mount.target_path == driver.target()
    assert list(mount.current_object_version) == []


def test_node_publish_secrets_and_tokens_reach_the_provider(driver):
    tokens = json.dumps({"api://AzureADTokenExchange": {"token": "t", "expirationTimestamp": "x"}})
    request = driver.publish_request(
        secrets={
            "clientid": "app-id",
            "clientsecret": "s3cr3t",
            "csi.storage.k8s.io/serviceAccount.tokens": tokens,
        }
    )

    driver.node.NodePublishVolume(request)

    [mount] = driver.provider.requests
    assert json.loads(mount.secrets) == {
        "clientid": "app-id",
        "clientsecret": "s3cr3t",
        "csi.storage.k8s.io/serviceAccount.tokens": tokens,
    }
    assert json.loads(mount.attributes)["csi.storage.k8s.io/serviceAccount.tokens"] == tokens


def test_spc_served_only_as_v1alpha1_is_found(driver):
    driver.store.objects.clear()
    driver.store.add_spc(api_version=f"{SPC_GROUP}/v1alpha1")

    driver.node.NodePublishVolume(driver.publish_request())

    assert len(driver.provider.requests) == 1


def test_republish_of_a_mounted_volume_is_idempotent_without_provider_call(driver):
    driver.provider.files = [("username", 0o644, b"admin")]
    driver.node.NodePublishVolume(driver.publish_request())
    data_before = os.readlink(os.path.join(driver.target(), "..data"))

    driver.node.NodePublishVolume(driver.publish_request())

    assert len(driver.provider.requests) == 1
    assert os.readlink(os.path.join(driver.target(), "..data")) == data_before
    assert driver.store.creates == 1 and driver.store.replaces == 0


def test_existing_pod_status_is_taken_over(driver):
    stale = {
        "apiVersion": f"{SPC_GROUP}/v1",
        "kind": "SecretProviderClassPodStatus",
        "metadata": {
            "name": f"{POD}-default-azure-kv",
            "namespace": "default",
            "labels": {"internal.secrets-store.csi.k8s.io/node-name": "old-node", "keep": "me"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": POD, "uid": "old"}],
        },
        "status": {"podName": POD, "mounted": True, "targetPath": "/old", "objects": []},
    }
    driver.store.create(stale)

    driver.node.NodePublishVolume(driver.publish_request())

    status = driver.store.pod_status(f"{POD}-default-azure-kv")
    assert status["metadata"]["labels"] == {
        "internal.secrets-store.csi.k8s.io/node-name": NODE_ID,
        "keep": "me",
    }
    assert status["metadata"]["ownerReferences"][0]["uid"] == POD_UID
    assert status["status"]["targetPath"] == driver.target()
    assert status["status"]["objects"] == [{"id": "secret/foo", "version": "v1"}]


def test_unpublish_removes_contents_and_target(driver):
    driver.provider.files = [("username", 0o644, b"admin")]
    driver.node.NodePublishVolume(driver.publish_request())

    driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-0123", target_path=driver.target())
    )

    assert not os.path.lexists(driver.target())
    assert os.path.isdir(os.path.dirname(driver.target()))


def test_unpublish_of_an_unknown_target_succeeds(driver):
    response = driver.node.NodeUnpublishVolume(
        csi_pb2.NodeUnpublishVolumeRequest(
            volume_id="csi-0123", target_path=os.path.join(driver.kubelet_dir, "nope", "mount")
        )
    )
    assert response == csi_pb2.NodeUnpublishVolumeResponse()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"volume_id": "", "target_path": "/t"}, "Volume ID missing in request"),
        ({"volume_id": "v", "target_path": ""}, "Target path missing in request"),
    ],
)
def test_unpublish_validates(driver, fields, message):
    with pytest.raises(grpc.RpcError) as raised:
        driver.node.NodeUnpublishVolume(csi_pb2.NodeUnpublishVolumeRequest(**fields))
    assert (raised.value.code(), raised.value.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        message,
    )


@pytest.mark.parametrize(
    ("bad_path", "cause"),
    [
        ("../escape", "invalid path: must not contain '..': ../escape"),
        ("/etc/passwd", "invalid path: must be relative path: /etc/passwd"),
        ("a/../../b", "invalid path: must not contain '..': a/../../b"),
        ("..data/evil", "invalid path: must not start with '..': ..data/evil"),
        ("a//b", 'invalid filepath: "a//b"'),
    ],
)
def test_unsafe_provider_paths_are_refused_and_nothing_is_written(driver, bad_path, cause):
    driver.provider.files = [("good", 0o644, b"ok"), (bad_path, 0o644, b"pwned")]

    code, details = publish_error(driver, driver.publish_request())

    assert (code, details) == (grpc.StatusCode.UNKNOWN, MOUNT_ERROR_PREFIX + cause)
    assert os.listdir(driver.target()) == []
    assert not os.path.exists(os.path.join(driver.kubelet_dir, "escape"))
    assert driver.store.creates == 0


@pytest.mark.parametrize("mode", [0o1000, 0o4755, -1])
def test_file_mode_out_of_range_is_refused(driver, mode):
    driver.provider.files = [("username", mode, b"admin")]

    code, details = publish_error(driver, driver.publish_request())

    assert code == grpc.StatusCode.UNKNOWN
    assert details == (
        MOUNT_ERROR_PREFIX + f'invalid file mode for "username": {mode} is outside 0..511 (0o777)'
    )
    assert os.listdir(driver.target()) == []


def test_provider_not_found_lists_the_paths_tried(driver):
    driver.store.add_spc(provider="vault")

    code, details = publish_error(driver, driver.publish_request())

    assert code == grpc.StatusCode.UNKNOWN
    assert details == (
        MOUNT_ERROR_PREFIX + 'error connecting to provider "vault": provider not found: '
        f'provider "vault" (looked for {driver.extra_provider_dir}/vault.sock, '
        f"{driver.provider_dir}/vault.sock)"
    )


def test_additional_provider_dir_is_searched_first(driver):
    from .harness import FakeProvider, serve_provider

    other = FakeProvider(files=[("from", 0o644, b"extra dir")])
    server = serve_provider(other, os.path.join(driver.extra_provider_dir, "fake.sock"))
    try:
        driver.node.NodePublishVolume(driver.publish_request())
    finally:
        server.stop(None).wait()

    assert (len(other.requests), len(driver.provider.requests)) == (1, 0)
    with open(os.path.join(driver.target(), "from"), "rb") as f:
        assert f.read() == b"extra dir"


def test_readonly_false_is_refused(driver):
    code, details = publish_error(driver, driver.publish_request(readonly=False))

    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, "Readonly is not true in request")
    assert driver.provider.requests == []


def test_missing_secret_provider_class(driver):
    request = driver.publish_request(volume_context_extra={"secretProviderClass": "missing"})

    code, details = publish_error(driver, request)

    assert code == grpc.StatusCode.UNKNOWN
    assert details == (
        "failed to get secretproviderclass default/missing, error: "
        f'secretproviderclasses.{SPC_GROUP} "missing" not found in namespace "default"'
    )


def test_spc_without_provider_or_parameters(driver):
    driver.store.add_spc(provider="")
    assert publish_error(driver, driver.publish_request()) == (
        grpc.StatusCode.UNKNOWN,
        "provider not set in default/azure-kv",
    )
    driver.store.add_spc(parameters={})
    assert publish_error(driver, driver.publish_request()) == (
        grpc.StatusCode.UNKNOWN,
        "parameters not set in default/azure-kv",
    )


@pytest.mark.parametrize(
    ("missing_field", "message"),
    [
        ("volume_capability", "Volume capability missing in request"),
        ("volume_id", "Volume ID missing in request"),
        ("target_path", "Target path missing in request"),
        ("volume_context", "Volume attributes missing in request"),
    ],
)
def test_publish_argument_checks(driver, missing_field, message):
    request = driver.publish_request()
    request.ClearField(missing_field)

    assert publish_error(driver, request) == (grpc.StatusCode.INVALID_ARGUMENT, message)


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (grpc.StatusCode.UNKNOWN, "rpc error: code = Unknown desc = failed to get keyvault"),
        (
            grpc.StatusCode.PERMISSION_DENIED,
            "rpc error: code = PermissionDenied desc = failed to get keyvault",
        ),
    ],
)
def test_provider_grpc_error_is_reported_in_go_shape(driver, status, text):
    driver.provider.abort_with = (status, "failed to get keyvault")

    code, details = publish_error(driver, driver.publish_request())

    assert (code, details) == (grpc.StatusCode.UNKNOWN, MOUNT_ERROR_PREFIX + text)
    assert os.listdir(driver.target()) == []


def test_provider_error_code_and_missing_versions(driver):
    driver.provider.error_code = "AuthenticationFailed"
    assert publish_error(driver, driver.publish_request()) == (
        grpc.StatusCode.UNKNOWN,
        MOUNT_ERROR_PREFIX + "mount request failed with provider error code AuthenticationFailed",
    )
    driver.provider.error_code = ""
    driver.provider.versions = []
    assert publish_error(driver, driver.publish_request()) == (
        grpc.StatusCode.UNKNOWN,
        MOUNT_ERROR_PREFIX + "missing object versions",
    )


def test_provider_restart_on_a_new_socket_file_is_followed(driver):
    driver.provider.files = [("username", 0o644, b"one")]
    driver.node.NodePublishVolume(driver.publish_request())
    driver.restart_provider()

    driver.node.NodePublishVolume(
        driver.publish_request(
            target_path=driver.target(uid="11111111-2222-3333-4444-555555555555")
        )
    )

    assert len(driver.provider.requests) == 2


@pytest.fixture
def rotating_driver():
    yield from make_driver(
        DirectoryMounter(),
        PublisherConfig(node_id=NODE_ID, rotation_enabled=True, rotation_poll_interval=0.0),
    )


def test_rotation_republish_refreshes_contents(rotating_driver):
    driver = rotating_driver
    driver.provider.files = [("username", 0o644, b"v1"), ("old", 0o644, b"gone soon")]
    driver.node.NodePublishVolume(driver.publish_request())
    first_ts = os.readlink(os.path.join(driver.target(), "..data"))

    driver.provider.files = [("username", 0o644, b"v2")]
    driver.provider.versions = [("secret/username", "v2")]
    driver.node.NodePublishVolume(driver.publish_request())

    target = driver.target()
    with open(os.path.join(target, "username"), "rb") as f:
        assert f.read() == b"v2"
    second_ts = os.readlink(os.path.join(target, "..data"))
    assert second_ts != first_ts
    # the previous generation stays until the next write (readers that resolved ..data)
    assert sorted(os.listdir(target)) == sorted(["..data", first_ts, second_ts, "username"])
    assert driver.store.pod_status(f"{POD}-default-azure-kv")["status"]["objects"] == [
        {"id": "secret/username", "version": "v2"}
    ]


def test_rotation_republish_errors_are_masked_and_keep_the_mount(rotating_driver):
    driver = rotating_driver
    driver.provider.files = [("username", 0o644, b"v1")]
    driver.node.NodePublishVolume(driver.publish_request())

    driver.provider.abort_with = (grpc.StatusCode.INTERNAL, "vault throttled")
    assert driver.node.NodePublishVolume(driver.publish_request()) == (
        csi_pb2.NodePublishVolumeResponse()
    )

    with open(os.path.join(driver.target(), "username"), "rb") as f:
        assert f.read() == b"v1"


def test_rotation_never_skips_a_retry_of_a_failed_first_publish():
    harness = make_driver(
        DirectoryMounter(),
        PublisherConfig(node_id=NODE_ID, rotation_enabled=True, rotation_poll_interval=3600.0),
    )
    driver = next(harness)
    try:
        driver.provider.abort_with = (grpc.StatusCode.INTERNAL, "vault down")
        assert publish_error(driver, driver.publish_request())[0] == grpc.StatusCode.UNKNOWN
        driver.provider.abort_with = None
        driver.provider.files = [("username", 0o644, b"admin")]

        driver.node.NodePublishVolume(driver.publish_request())

        assert len(driver.provider.requests) == 2
        with open(os.path.join(driver.target(), "username"), "rb") as f:
            assert f.read() == b"admin"
    finally:
        harness.close()


def test_rotation_inside_poll_interval_is_skipped():
    harness = make_driver(
        DirectoryMounter(),
        PublisherConfig(node_id=NODE_ID, rotation_enabled=True, rotation_poll_interval=3600.0),
    )
    driver = next(harness)
    try:
        driver.provider.files = [("username", 0o644, b"admin")]
        driver.node.NodePublishVolume(driver.publish_request())
        driver.node.NodePublishVolume(driver.publish_request())
        assert len(driver.provider.requests) == 1
    finally:
        harness.close()
