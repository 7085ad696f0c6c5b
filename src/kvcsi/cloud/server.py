"""Running the local cloud: state initialisation, both listeners in one event loop, and the
files that announce it (``endpoints.json``, ``environment.json``).

``LocalCloudServer.serve()`` binds the HTTPS and IMDS sockets on 127.0.0.1 first (port 0 =
ephemeral), so the context is built with the real ports; it then runs two ``uvicorn.Server``
instances side by side and writes the announcement files once both listen. ``stop()`` ends
both; ``endpoints.json`` is removed and queued audit events are written on the way out.
``kvcsi.cloud.main`` runs it in the main thread with signal handling;
:mod:`kvcsi.cloud.runner` runs it in a background thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from kvcsi.cloud import lookups
from kvcsi.cloud.app import build_imds_app, https_app
from kvcsi.cloud.audit.writer import close_writers
from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.endpoints import (
    BIND_ADDRESS,
    DEFAULT_HTTPS_PORT,
    DEFAULT_IMDS_PORT,
    CloudEndpoints,
    endpoints_document,
    endpoints_path,
    environment_document,
    environment_path,
)
from kvcsi.cloud.identity.tokens import TokenIssuer
from kvcsi.cloud.statefiles import cloud_dir, write_json
from kvcsi.cloud.store import CloudStore
from kvcsi.cloud.tls import ensure_tls

log = logging.getLogger(__name__)
BOOTSTRAP_MODULE = "kvcsi.cloud.arm.bootstrap"
STATE_DB = "state.db"


@dataclass(frozen=True)
class CloudOptions:
    home: Path
    https_port: int = DEFAULT_HTTPS_PORT
    imds_port: int = DEFAULT_IMDS_PORT
    keyvault_delay_ms: int = 0
    log_level: str = "info"


def open_store(home: Path | str) -> CloudStore:
    return CloudStore(cloud_dir(home) / STATE_DB)


def bootstrap(store: CloudStore, endpoints: CloudEndpoints) -> tuple[str, str | None]:
    """Create the default tenant, subscription, roles and local account; return their ids.

    The ARM package's ``bootstrap.ensure_defaults(store, endpoints)`` does the work. Without
    it, only a tenant is created so the token service can answer.
    """
    try:
        module = importlib.import_module(BOOTSTRAP_MODULE)
    except ImportError:
        module = None
    if module is not None and hasattr(module, "ensure_defaults"):
        module.ensure_defaults(store, endpoints)
    else:
        log.warning("%s is not available; creating a bare tenant only", BOOTSTRAP_MODULE)
    tenant_id = lookups.default_tenant_id(store)
    if tenant_id is None:
        tenant_id = str(uuid.uuid4())
        store.put("tenant", tenant_id, {"tenantId": tenant_id, "displayName": "kvcsi local",
                                        "defaultDomain": "kvcsi.localhost"})
    return tenant_id, lookups.default_subscription_id(store)


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP, and without it every keep-alive response waits ~40 ms (Nagle against
    # the client's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((BIND_ADDRESS, port))
    except OSError:
        sock.close()
        raise
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class _QuietSignalsServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner (two share one loop) and
    does not wait for idle TLS connections on shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def _wait_tasks_to_complete(self) -> None:
        # Idle TLS connections that were asked to close wait for the client's close_notify,
        # which idle keep-alive clients never send; drop them instead of waiting it out.
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None and transport.is_closing():
                transport.abort()
        await super()._wait_tasks_to_complete()


class LocalCloudServer:
    """The local cloud's two listeners and its announcement files."""

    def __init__(self, options: CloudOptions) -> None:
        self.options = options
        self.context: CloudContext | None = None
        self.announcement: dict[str, Any] | None = None
        self._servers: list[uvicorn.Server] = []
        self._stop_requested = False

    def _build_context(self, https_port: int, imds_port: int) -> CloudContext:
        home = self.options.home
        tls = ensure_tls(home)
        store = open_store(home)
        endpoints = CloudEndpoints(https_port=https_port, imds_port=imds_port,
                                   ca_bundle=str(tls.ca_cert.resolve()))
        tenant_id, subscription_id = bootstrap(store, endpoints)
        endpoints = dataclasses.replace(endpoints, tenant_id=tenant_id,
                                        subscription_id=subscription_id)
        return CloudContext(home=home, store=store, issuer=TokenIssuer(store, home),
                            endpoints=endpoints, tls=tls, tenant_id=tenant_id,
                            subscription_id=subscription_id,
                            keyvault_delay_ms=self.options.keyvault_delay_ms)

    def _config(self, app: Any, **tls: str) -> uvicorn.Config:
        return uvicorn.Config(app, lifespan="off", log_config=None,
                              log_level=self.options.log_level, access_log=False,
                              timeout_graceful_shutdown=2, **tls)

    async def serve(self, on_ready: Callable[[dict[str, Any]], None] | None = None) -> None:
        https_socket = _bind(self.options.https_port)
        imds_socket = _bind(self.options.imds_port)
        ctx = self._build_context(https_socket.getsockname()[1], imds_socket.getsockname()[1])
        self.context = ctx
        https = _QuietSignalsServer(self._config(
            https_app(ctx), ssl_certfile=str(ctx.tls.server_cert),
            ssl_keyfile=str(ctx.tls.server_key)))
        imds = _QuietSignalsServer(self._config(build_imds_app(ctx)))
        self._servers = [https, imds]
        if self._stop_requested:
            self.stop()
        tasks = [asyncio.create_task(https.serve(sockets=[https_socket])),
                 asyncio.create_task(imds.serve(sockets=[imds_socket]))]
        try:
            while not (https.started and imds.started):
                if any(task.done() for task in tasks):
                    break
                await asyncio.sleep(0.01)
            if https.started and imds.started:
                self.announcement = self._announce(ctx)
                log.info("local cloud listening: https://localhost:%d (IMDS http://%s:%d)",
                         ctx.endpoints.https_port, BIND_ADDRESS, ctx.endpoints.imds_port)
                if on_ready is not None:
                    on_ready(self.announcement)
            await asyncio.gather(*tasks)
        finally:
            self.stop()
            close_writers(ctx.store)  # the audit events still queued
            with contextlib.suppress(FileNotFoundError):
                endpoints_path(self.options.home).unlink()
            https_socket.close()
            imds_socket.close()

    def _announce(self, ctx: CloudContext) -> dict[str, Any]:
        document = endpoints_document(ctx.endpoints, pid=os.getpid())
        write_json(environment_path(ctx.home), environment_document(ctx.endpoints))
        write_json(endpoints_path(ctx.home), document)
        return document

    def stop(self) -> None:
        """Ask both listeners to finish (safe from signal handlers and other threads' loops)."""
        self._stop_requested = True
        for server in self._servers:
            server.should_exit = True
