"""Prometheus metrics with upstream names and labels: ``keyvault_request``, ``grpc_request``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from support.pki import make_chain

from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.provider.keyvault import MeteredKeyVault
from kvcsi.provider.metrics import ProviderMetrics
from kvcsi.provider.server import CSIDriverProviderServicer, start_server

COMMON = {"os_type": "linux", "provider": "azure",
          "service_name": "csi-secrets-store-provider-azure"}


@pytest.fixture
def scrape(fake_vault: Any, tmp_path: Path) -> Any:
    metrics = ProviderMetrics()
    gateway = MeteredKeyVault(fake_vault, metrics.observe_keyvault)
    server = start_server(f"unix://{tmp_path / 'azure.sock'}",
                          CSIDriverProviderServicer(gateway), metrics=metrics)
    channel = grpc.insecure_channel(f"unix:{tmp_path / 'azure.sock'}")
    stub = provider_pb2_grpc.CSIDriverProviderStub(channel)

    def mount(attributes: str) -> None:
        try:
            stub.Mount(provider_pb2.MountRequest(attributes=attributes, secrets="null",
                                                 permission="420"), timeout=10)
        except grpc.RpcError:
            pass
        return None

    yield mount, lambda: generate_latest(metrics.registry).decode()
    channel.close()
    server.stop(grace=None)


def test_keyvault_and_grpc_histograms(scrape: Any, attributes: Callable[..., str],
                                      fake_vault: Any) -> None:
    mount, text = scrape
    fake_vault.certificates["c1"] = [("v1", b"\x30\x00")]
    fake_vault.errors["missing"] = "SecretNotFound"
    objects = ("array:\n  - |\n    objectName: db-password\n    objectType: secret\n"
               "  - |\n    objectName: c1\n    objectType: cert\n")
    mount(attributes(objects=objects))
    mount(attributes(objects="array:\n  - |\n    objectName: missing\n    objectType: secret\n"))
    counts = {(sample.name, tuple(sorted(sample.labels.items())), sample.value)
              for family in text_string_to_metric_families(text()) for sample in family.samples
              if sample.name.endswith("_count")}
    mount_method = {"grpc_method": "/v1alpha1.CSIDriverProvider/Mount"}

    def count(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...], float]:
        return (name, tuple(sorted({**COMMON, **labels}.items())), 1.0)

    assert counts == {
        count("keyvault_request_count", object_type="secret", object_name="db-password",
              error=""),
        count("keyvault_request_count", object_type="cert", object_name="c1", error=""),
        count("keyvault_request_count", object_type="secret", object_name="missing",
              error="SecretNotFound"),
        count("grpc_request_count", **mount_method, grpc_code="OK", grpc_message=""),
        count("grpc_request_count", **mount_method, grpc_code="Unknown",
              grpc_message="failed to mount objects, error: failed to get objectType:secret, "
                           "objectName:missing, objectVersion:: SecretNotFound"),
    }
    body = text()
    assert 'keyvault_request_bucket{' in body and 'le="0.1"' in body and 'le="30.0"' in body


def test_no_secret_material_in_metrics(scrape: Any, attributes: Callable[..., str],
                                       fake_vault: Any) -> None:
    mount, text = scrape
    chain = make_chain()
    fake_vault.secrets["db-password"] = [("v1", "Tr0ub4dor&3")]
    mount(attributes())
    mount(attributes(useVMManagedIdentity=None))
    body = text()
    assert "Tr0ub4dor" not in body and chain.leaf.subject.rfc4514_string() not in body
