"""The HTTP liveness endpoint: ``GET :<healthz-port><healthz-path>``.

Upstream counterpart: ``pkg/server/healthz.go``. Each probe dials the provider's own gRPC
endpoint and runs a gRPC health ``Check`` within ``--healthz-timeout``: ``200 ok`` when it
answers SERVING, otherwise ``503`` with the error text. Port 0 disables it (local mode).
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)


def check_health(target: str, timeout: float) -> str | None:
    """None when the gRPC server at ``target`` is SERVING, else the reason."""
    try:
        with grpc.insecure_channel(target, options=[("grpc.default_authority", "localhost")]) \
                as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout)
    except grpc.RpcError as error:
        return f"rpc error: code = {error.code().name} desc = {error.details()}"
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return f"service not serving: {status}"
    return None


class HealthzServer:
    """A small threaded HTTP server answering liveness probes."""

    def __init__(self, grpc_target: str, port: int, path: str = "/healthz",
                 timeout: float = 5.0, address: str = "") -> None:
        target, probe_path, probe_timeout = grpc_target, path, timeout

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?", 1)[0] != probe_path:
                    self.send_error(404)
                    return
                problem = check_health(target, probe_timeout)
                body = (problem or "ok").encode("utf-8")
                self.send_response(503 if problem else 200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                log.debug("healthz: " + format, *args)

        self._http = ThreadingHTTPServer((address, port), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, name="kvcsi-healthz",
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
