"""The local cloud's ASGI apps: one HTTPS app routed by ``Host``, and the IMDS app.

Host routing (contract §1): ``*.vault.localhost`` → Key Vault; ``management.localhost`` →
ARM; ``graph.localhost`` → Graph; ``localhost`` / ``127.0.0.1`` → Entra, except the paths
``/oidc/...`` and ``/hcp/...`` there, which are the managed clusters' OIDC issuers and
TokenRequest endpoints (:mod:`kvcsi.cloud.aks_oidc`). The ARM and Graph
apps come from ``kvcsi.cloud.arm.routes`` (``arm_app(ctx)`` / ``graph_app(ctx)``); while
that module is missing those hosts answer 503.
"""

from __future__ import annotations

import importlib
import json
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from kvcsi.cloud.aks_oidc.routes import aks_oidc_app
from kvcsi.cloud.arm.kvcsi_routes import with_kvcsi_routes
from kvcsi.cloud.audit import audited_keyvault
from kvcsi.cloud.context import CloudContext
from kvcsi.cloud.identity.entra import entra_app
from kvcsi.cloud.identity.imds import imds_app
from kvcsi.cloud.keyvault.bench_floor import with_bench_floor
from kvcsi.cloud.keyvault.routes import keyvault_app

log = logging.getLogger(__name__)
ARM_ROUTES_MODULE = "kvcsi.cloud.arm.routes"
AKS_IDENTITY_PATH_PREFIXES = ("/oidc/", "/hcp/")


def _plain_json_app(status: int, body: dict[str, object]) -> ASGIApp:
    payload = json.dumps(body).encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
    return app


def _arm_package_app(ctx: CloudContext, factory_name: str, service: str) -> ASGIApp:
    try:
        module = importlib.import_module(ARM_ROUTES_MODULE)
        factory = getattr(module, factory_name)
    except (ImportError, AttributeError):
        log.warning("%s.%s is not available; %s answers 503", ARM_ROUTES_MODULE,
                    factory_name, service)
        return _plain_json_app(503, {"error": {
            "code": "ServiceUnavailable",
            "message": f"The local {service} is not available in this build of kvcsi."}})
    return factory(ctx)


class HostRouter:
    """Dispatches each HTTP request to the app serving its ``Host``."""

    def __init__(self, ctx: CloudContext) -> None:
        self.keyvault = with_bench_floor(  # KVCSI_KEYVAULT_BENCH_FLOOR=1 only
            audited_keyvault(keyvault_app(ctx), ctx))  # audit log (kvcsi audit)
        self.arm = with_kvcsi_routes(  # /providers/kvcsi/{explain,auditEvents}
            _arm_package_app(ctx, "arm_app", "management plane (ARM)"), ctx)
        self.graph = _arm_package_app(ctx, "graph_app", "Microsoft Graph")
        self.entra = entra_app(ctx)
        self.aks_identity = aks_oidc_app(ctx)
        self.not_found = _plain_json_app(404, {"error": {
            "code": "UnknownHost", "message": "No local cloud service answers for this host."}})

    def app_for_host(self, host: str) -> ASGIApp:
        name = host.lower().rsplit(":", 1)[0] if not host.startswith("[") else host.lower()
        if name.endswith(".vault.localhost"):
            return self.keyvault
        if name == "management.localhost":
            return self.arm
        if name == "graph.localhost":
            return self.graph
        if name in ("localhost", "127.0.0.1"):
            return self.entra
        return self.not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        host = ""
        for key, value in scope.get("headers", []):
            if key == b"host":
                host = value.decode("latin-1")
                break
        app = self.app_for_host(host)
        if app is self.entra and scope.get("path", "").startswith(AKS_IDENTITY_PATH_PREFIXES):
            app = self.aks_identity
        await app(scope, receive, send)


def https_app(ctx: CloudContext) -> HostRouter:
    return HostRouter(ctx)


def build_imds_app(ctx: CloudContext) -> ASGIApp:
    return imds_app(ctx)
