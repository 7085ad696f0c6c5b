"""Which CSI drivers are registered on a node (kubelet's plugin watcher, simplified).

A real kubelet learns drivers from node-driver-registrar sockets in ``plugins_registry/``.
Here a driver counts as registered when a socket ``plugins/<dir>/csi.sock`` exists in the
node's kubelet root and answers ``GetPluginInfo``; its name is the one it reports. Lookups
rescan at most once a second, and always rescan on a miss.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kvcsi.node import csi_client

RESCAN_INTERVAL = 1.0


class PluginRegistry:
    """``driver name -> socket`` for one node; safe to share between pod workers."""

    def __init__(self, plugins_dir: Path) -> None:
        self._plugins_dir = plugins_dir
        self._lock = threading.Lock()
        self._drivers: dict[str, Path] = {}
        self._scanned_at = 0.0

    def _rescan(self) -> None:
        drivers: dict[str, Path] = {}
        for socket in sorted(self._plugins_dir.glob("*/csi.sock")):
            name = csi_client.plugin_name(socket)
            if name:
                drivers[name] = socket
        self._drivers = drivers
        self._scanned_at = time.monotonic()

    def socket_for(self, driver: str) -> Path | None:
        """The socket of a registered driver, or None ("not found in the list ...")."""
        with self._lock:
            fresh = time.monotonic() - self._scanned_at < RESCAN_INTERVAL
            if driver in self._drivers and fresh:
                return self._drivers[driver]
            if not fresh or driver not in self._drivers:
                self._rescan()
            return self._drivers.get(driver)

    def registered(self) -> dict[str, Path]:
        with self._lock:
            if time.monotonic() - self._scanned_at >= RESCAN_INTERVAL:
                self._rescan()
            return dict(self._drivers)
