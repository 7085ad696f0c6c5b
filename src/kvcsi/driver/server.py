"""The CSI gRPC server: endpoint parsing, stale-socket removal, the sanitising log interceptor.

Upstream counterpart: ``pkg/secrets-store/server.go`` (csi-common's non-blocking server).
Endpoints are ``unix://<path>`` (``unix://tmp/csi.sock`` means ``/tmp/csi.sock``, as upstream
prepends ``/``) or ``tcp://<host>:<port>``. Request and response logging happens at debug
level only, through :func:`sanitize`, which strips ``secrets`` and masks
``csi.storage.k8s.io/serviceAccount.tokens`` in ``volume_context`` (the CVE-2023-2878 fix).
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from kvcsi.driver.spc import SERVICE_ACCOUNT_TOKENS_KEY

STRIPPED = "***stripped***"
MASKED = "***masked***"
DEFAULT_WORKERS = 8

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    scheme: str  # "unix" or "tcp"
    address: str  # socket path, or host:port

    @property
    def grpc_target(self) -> str:
        return f"unix:{self.address}" if self.scheme == "unix" else self.address


def parse_endpoint(endpoint: str) -> Endpoint:
    """``unix://...`` / ``tcp://...``; anything else is ``Invalid endpoint: ...``."""
    scheme, separator, rest = endpoint.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in ("unix", "tcp") or not rest:
        raise ValueError(f"Invalid endpoint: {endpoint}")
    if scheme == "unix":
        return Endpoint("unix", "/" + rest.lstrip("/"))
    return Endpoint("tcp", rest)


def remove_stale_socket(path: str) -> None:
    """Remove a leftover socket file; refuse to delete anything that is not a socket."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ValueError(f"failed to remove {path}: not a unix socket")
    os.remove(path)


def sanitize(message: Message) -> str:
    """JSON of a request/response with CSI secrets stripped and SA tokens masked."""
    as_dict: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    if "secrets" in as_dict:
        as_dict["secrets"] = STRIPPED
    volume_context = as_dict.get("volume_context")
    if isinstance(volume_context, dict) and SERVICE_ACCOUNT_TOKENS_KEY in volume_context:
        volume_context[SERVICE_ACCOUNT_TOKENS_KEY] = MASKED
    return json.dumps(as_dict, sort_keys=True)


class SanitizingLogInterceptor(grpc.ServerInterceptor):
    """Logs every unary call (method, sanitised request and response, error) at debug level."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        inner: Callable[[Any, grpc.ServicerContext], Any] = handler.unary_unary

        def logged(request: Any, context: grpc.ServicerContext) -> Any:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("GRPC call: %s", method)
                log.debug("GRPC request: %s", sanitize(request))
            try:
                response = inner(request, context)
            except Exception:
                log.error("GRPC error: %s: %s", method, _details(context))
                raise
            if log.isEnabledFor(logging.DEBUG):
                log.debug("GRPC response: %s", sanitize(response))
            return response

        return grpc.unary_unary_rpc_method_handler(
            logged,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _details(context: grpc.ServicerContext) -> str:
    try:
        details = context.details() or ""
    except Exception:  # older grpc without ServicerContext.details()
        return ""
    return details.decode("utf-8", "replace") if isinstance(details, bytes) else str(details)


def build_server(
    endpoint: Endpoint,
    register: Sequence[Callable[[grpc.Server], None]],
    max_workers: int = DEFAULT_WORKERS,
) -> tuple[grpc.Server, str]:
    """A started-but-not-yet-serving server bound to ``endpoint``; returns (server, address).

    For ``tcp://host:0`` the returned address carries the ephemeral port.
    """
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="csi"),
        interceptors=[SanitizingLogInterceptor()],
    )
    for add in register:
        add(server)
    if endpoint.scheme == "unix":
        os.makedirs(os.path.dirname(endpoint.address) or "/", exist_ok=True)
        remove_stale_socket(endpoint.address)
        server.add_insecure_port(endpoint.grpc_target)
        return server, endpoint.address
    host, _, _port = endpoint.address.rpartition(":")
    bound = server.add_insecure_port(endpoint.address)
    return server, f"{host}:{bound}"
