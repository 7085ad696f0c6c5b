"""Driver metrics with the upstream names, served on ``--metrics-addr`` at ``/metrics``.

Upstream counterpart: ``pkg/secrets-store/stats_reporter.go`` (names as exposed since v1.4:
``node_publish_total``, ``node_publish_error_total``, ``node_unpublish_total``,
``node_unpublish_error_total``, ``rotation_reconcile_total``,
``rotation_reconcile_error_total``; labels ``os_type``, ``provider``, ``error_type``,
``rotated``; histograms ``rotation_reconcile_duration_sec`` and ``k8s_secret_duration_sec``
with upstream's buckets, and ``sync_k8s_secret_total``, which upstream defines but never
records and kvcsi records per Secret written). A private registry keeps several drivers in
one process (tests) apart.
"""

from __future__ import annotations

import logging
import sys

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

OS_TYPE = "windows" if sys.platform.startswith("win") else "linux"
# ExponentialBucketsRange(0.1, 2, 11), as upstream's stats reporter sets them
DURATION_BUCKETS = tuple(round(0.1 * (2 / 0.1) ** (i / 10), 4) for i in range(11))

log = logging.getLogger(__name__)


class DriverMetrics:
    """The counters NodePublish / NodeUnpublish record."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._publish = Counter(
            "node_publish",
            "Successful node publish operations",
            ["os_type", "provider"],
            registry=self.registry,
        )
        self._publish_error = Counter(
            "node_publish_error",
            "Failed node publish operations",
            ["os_type", "provider", "error_type"],
            registry=self.registry,
        )
        self._unpublish = Counter(
            "node_unpublish",
            "Successful node unpublish operations",
            ["os_type"],
            registry=self.registry,
        )
        self._unpublish_error = Counter(
            "node_unpublish_error",
            "Failed node unpublish operations",
            ["os_type"],
            registry=self.registry,
        )
        self._rotation = Counter(
            "rotation_reconcile",
            "Rotation republishes that called the provider",
            ["os_type", "provider", "rotated"],
            registry=self.registry,
        )
        self._rotation_error = Counter(
            "rotation_reconcile_error",
            "Failed rotation republishes",
            ["os_type", "provider", "error_type", "rotated"],
            registry=self.registry,
        )

        self._rotation_duration = Histogram(
            "rotation_reconcile_duration_sec",
            "Duration of rotation republishes that called the provider, in seconds",
            ["os_type"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self._sync_secret = Counter(
            "sync_k8s_secret",
            "Kubernetes Secrets created or updated from mounted content",
            ["os_type", "provider"],
            registry=self.registry,
        )
        self._sync_secret_duration = Histogram(
            "k8s_secret_duration_sec",
            "Duration of Kubernetes Secret syncs that wrote, in seconds",
            ["os_type"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )

    def rotation_duration(self, seconds: float) -> None:
        self._rotation_duration.labels(OS_TYPE).observe(seconds)

    def secret_synced(self, provider: str, written: int, seconds: float) -> None:
        self._sync_secret.labels(OS_TYPE, provider).inc(written)
        self._sync_secret_duration.labels(OS_TYPE).observe(seconds)

    def publish_ok(self, provider: str, rotated: bool = False) -> None:
        self._publish.labels(OS_TYPE, provider).inc()
        if rotated:
            self._rotation.labels(OS_TYPE, provider, "true").inc()

    def publish_error(self, provider: str, error_type: str, rotated: bool = False) -> None:
        self._publish_error.labels(OS_TYPE, provider, error_type).inc()
        if rotated:
            self._rotation_error.labels(OS_TYPE, provider, error_type, "true").inc()

    def unpublish_ok(self) -> None:
        self._unpublish.labels(OS_TYPE).inc()

    def unpublish_error(self) -> None:
        self._unpublish_error.labels(OS_TYPE).inc()


def parse_metrics_addr(addr: str) -> tuple[str, int] | None:
    """``host:port`` / ``:port`` -> (host, port); empty or ``0`` -> None (disabled)."""
    if addr in ("", "0"):
        return None
    host, _, port = addr.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"invalid --metrics-addr {addr!r}: want [host]:port")
    return host.strip("[]"), int(port)


def serve_metrics(metrics: DriverMetrics, addr: str) -> int | None:
    """Start the /metrics HTTP server in a thread; returns the bound port or None."""
    parsed = parse_metrics_addr(addr)
    if parsed is None:
        return None
    host, port = parsed
    server, _thread = start_http_server(port, addr=host or "0.0.0.0", registry=metrics.registry)
    bound = server.server_address[1]
    log.info("metrics served at %s:%d/metrics", host or "0.0.0.0", bound)
    return int(bound)
