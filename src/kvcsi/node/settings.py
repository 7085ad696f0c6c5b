"""Tunables of the local kubelet (defaults suit a laptop; tests shorten them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kvcsi.node.supervisor import Backoff


@dataclass(frozen=True)
class KubeletSettings:
    """``mount_backoff``: retry of failed volume set-ups (kubelet: 0.5 s doubling to ~2 min;
    locally capped at 5 s). ``sync_period``: republish period for CSIDrivers with
    ``requiresRepublish`` (kubelet's ``--sync-frequency``, 1 min). ``poll_interval``: how
    often stores and processes are checked."""

    mount_backoff: Backoff = field(default_factory=lambda: Backoff(0.5, 2.0, 5.0))
    container_backoff: Backoff = field(default_factory=lambda: Backoff(1.0, 2.0, 10.0))
    sync_period: float = 60.0
    poll_interval: float = 0.2
    max_grace_seconds: float = 10.0
