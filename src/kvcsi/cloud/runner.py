"""The local cloud in a background thread of the current process (tests, embedding).

``InProcessCloud(home)`` starts the same server ``kvcsi-cloud`` runs, on ephemeral ports by
default, and returns once ``endpoints.json`` is written; ``endpoints`` is its content.
Use it as a context manager or call ``start()`` / ``stop()``.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.server import CloudOptions, LocalCloudServer

START_TIMEOUT_SECONDS = 30.0


class InProcessCloud:
    def __init__(self, home: Path | str, *, https_port: int = 0, imds_port: int = 0,
                 keyvault_delay_ms: int = 0, log_level: str = "warning") -> None:
        self.server = LocalCloudServer(CloudOptions(
            home=Path(home), https_port=https_port, imds_port=imds_port,
            keyvault_delay_ms=keyvault_delay_ms, log_level=log_level))
        self.endpoints: dict[str, Any] = {}
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def context(self) -> CloudContext:
        assert self.server.context is not None, "the cloud is not started"
        return self.server.context

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self.server.serve(on_ready=self._on_ready))
        except BaseException as error:  # reported to start()
            self._error = error
        finally:
            self._ready.set()
            loop.close()

    def _on_ready(self, endpoints: dict[str, Any]) -> None:
        self.endpoints = endpoints
        self._ready.set()

    def start(self) -> InProcessCloud:
        self._thread = threading.Thread(target=self._run, name="kvcsi-cloud", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            self.stop()
            raise TimeoutError("the local cloud did not start in time")
        if not self.endpoints:
            raise RuntimeError("the local cloud failed to start") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self.server.stop)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=15)

    def __enter__(self) -> InProcessCloud:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
