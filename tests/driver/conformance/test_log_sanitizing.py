"""CVE-2023-2878: at -v=5 the driver logs every CSI call, never a secret or a token."""

from __future__ import annotations

import json

import grpc
import pytest

from kvcsi._proto import csi_pb2

from .conftest import provider_flags
from .driver_process import (
    SERVICE_ACCOUNT_TOKEN,
    TOKENS_KEY,
    publish_request,
    start_driver,
    target_path,
)

NODE_PUBLISH_SECRET = "cl13nt-s3cr3t-value-never-logged"


def test_tokens_and_node_publish_secrets_never_reach_the_log(setup):
    driver = start_driver(setup.base, setup.store_path, *provider_flags(setup), "-v=5")
    tokens = json.dumps({"api://AzureADTokenExchange": {
        "token": SERVICE_ACCOUNT_TOKEN, "expirationTimestamp": "2026-12-03T18:00:00Z"}})
    secrets = {"clientid": "0000-client", "clientsecret": NODE_PUBLISH_SECRET}
    try:
        target = target_path(setup.kubelet_dir, "logged")
        driver.node.NodePublishVolume(
            publish_request(target, secrets=secrets,
                            volume_context_extra={TOKENS_KEY: tokens}), timeout=30)
        failing = publish_request(
            target_path(setup.kubelet_dir, "failing"), secrets=secrets,
            volume_context_extra={TOKENS_KEY: tokens, "secretProviderClass": "missing"})
        with pytest.raises(grpc.RpcError):
            driver.node.NodePublishVolume(failing, timeout=30)
        driver.node.NodeUnpublishVolume(
            csi_pb2.NodeUnpublishVolumeRequest(volume_id="csi-l", target_path=target),
            timeout=10)
    finally:
        assert driver.stop() == 0
    log = driver.log()
    # the values did travel: the provider got both
    attributes = json.loads(setup.provider.requests[0].attributes)
    assert attributes[TOKENS_KEY] == tokens
    assert json.loads(setup.provider.requests[0].secrets) == secrets
    # and the calls were logged, sanitised
    assert "GRPC call: /csi.v1.Node/NodePublishVolume" in log
    assert '"secrets": "***stripped***"' in log
    assert f'"{TOKENS_KEY}": "***masked***"' in log
    assert "GRPC error: /csi.v1.Node/NodePublishVolume" in log
    for leaked in (SERVICE_ACCOUNT_TOKEN, NODE_PUBLISH_SECRET, "c2VjcmV0LXRva2VuLXBheWxvYWQ"):
        assert leaked not in log
