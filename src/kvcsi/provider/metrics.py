"""Provider metrics, exported for Prometheus.

Upstream counterpart: ``pkg/metrics`` (OpenTelemetry exported as Prometheus on
``--prometheus-port``, default 8898, path ``/metrics``). Two histograms in seconds:

* ``keyvault_request`` — labels ``object_type``, ``object_name``, ``error`` (text or empty)
* ``grpc_request`` — labels ``grpc_method``, ``grpc_code``, ``grpc_message``

Both also carry ``provider="azure"``, ``os_type`` and
``service_name="csi-secrets-store-provider-azure"`` as upstream does.
"""

from __future__ import annotations

import platform

from prometheus_client import CollectorRegistry, Histogram, start_http_server

BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 1, 1.5, 2, 2.5, 3, 5, 10, 15, 30)
COMMON_LABELS = {
    "provider": "azure",
    "os_type": platform.system().lower(),
    "service_name": "csi-secrets-store-provider-azure",
}
MAX_LABEL_CHARS = 300


class ProviderMetrics:
    """The provider's histograms in their own registry (one per server)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        common = list(COMMON_LABELS)
        self._keyvault = Histogram(
            "keyvault_request", "Distribution of how long it took to get from keyvault",
            [*common, "object_type", "object_name", "error"], buckets=BUCKETS,
            registry=self.registry)
        self._grpc = Histogram(
            "grpc_request", "Distribution of how long it took for the gRPC requests",
            [*common, "grpc_method", "grpc_code", "grpc_message"], buckets=BUCKETS,
            registry=self.registry)

    def observe_keyvault(self, object_type: str, object_name: str, error: str,
                         seconds: float) -> None:
        self._keyvault.labels(**COMMON_LABELS, object_type=object_type, object_name=object_name,
                              error=error[:MAX_LABEL_CHARS]).observe(seconds)

    def observe_grpc(self, method: str, code: str, message: str, seconds: float) -> None:
        self._grpc.labels(**COMMON_LABELS, grpc_method=method, grpc_code=code,
                          grpc_message=message[:MAX_LABEL_CHARS]).observe(seconds)

    def serve(self, port: int, address: str = "") -> None:
        """Expose ``/metrics`` on ``port`` (all interfaces unless ``address`` is given)."""
        start_http_server(port, addr=address or "0.0.0.0", registry=self.registry)
