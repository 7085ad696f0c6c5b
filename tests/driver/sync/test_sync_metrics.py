"""Rotation and sync metrics with the upstream names and labels."""

from __future__ import annotations

from prometheus_client import generate_latest

from ..rotation.world import INTERVAL, World


def _samples(world: World) -> set[str]:
    text = generate_latest(world.driver.publisher.metrics.registry).decode()
    return {line for line in text.splitlines() if not line.startswith("#")}


def test_rotation_and_sync_are_counted(world: World) -> None:
    app = world.add_pod("app")
    world.publish(app)
    world.driver.provider.files = [("db-password", 0o644, b"v2"), ("username", 0o644, b"u")]
    world.clock.advance(INTERVAL)
    world.publish(app)
    world.publish(app)  # skipped inside the interval
    samples = _samples(world)
    assert 'node_publish_total{os_type="linux",provider="fake"} 3.0' in samples
    assert 'rotation_reconcile_total{os_type="linux",provider="fake",rotated="true"} 1.0' in samples
    assert 'rotation_reconcile_duration_sec_count{os_type="linux"} 1.0' in samples
    assert 'rotation_reconcile_duration_sec_bucket{le="2.0",os_type="linux"} 1.0' in samples
    assert 'sync_k8s_secret_total{os_type="linux",provider="fake"} 2.0' in samples
    assert 'k8s_secret_duration_sec_count{os_type="linux"} 2.0' in samples
