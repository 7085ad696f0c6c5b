"""The provider's gRPC server: ``v1alpha1.CSIDriverProvider`` and the gRPC health service.

Upstream counterpart: ``pkg/server/server.go`` and the server half of ``cmd/main.go``. The
servicer only translates: it hands the request's JSON strings to
:func:`kvcsi.provider.mount.mount` and turns the result into a ``MountResponse``, or any
failure into gRPC ``UNKNOWN`` with ``failed to mount objects, error: <cause>``.

A mount runs on a worker thread and is given at most ``mount_timeout`` seconds (30 by
default, and never more than the caller's own deadline allows), so a slow or unreachable
dependency surfaces as a readable cause naming the step in progress rather than as the
driver's ``DeadlineExceeded``. Logging goes through :class:`LoggingInterceptor`, which records
method, duration and status only: never ``secrets``, tokens or file contents.

Warnings of a mount (unknown, deprecated or misplaced parameters and object keys, chains
left in PFX order) reach the user three ways: a log line per warning naming the
SecretProviderClass and the pod; one trailing-metadata entry per warning under
``kvcsi-warning-bin`` (UTF-8) on the Mount call, success or failure, for a driver that records
them as pod events; and, when the mount fails, appended to the error text as
``\nwarning: <text>`` lines, so they reach the FailedMount event through any driver.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from kvcsi import __version__
from kvcsi._proto import provider_pb2, provider_pb2_grpc
from kvcsi.provider.azure_errors import redact
from kvcsi.provider.endpoint import SOCKET_UMASK, parse_endpoint, remove_stale_socket
from kvcsi.provider.errors import MountError
from kvcsi.provider.keyvault import KeyVaultGateway
from kvcsi.provider.metrics import ProviderMetrics
from kvcsi.provider.mount import ProviderSettings, decode_request_attributes, mount
from kvcsi.provider.params import POD_NAME, POD_NAMESPACE, SECRET_PROVIDER_CLASS

API_VERSION = "v1alpha1"
RUNTIME_NAME = "secrets-store-csi-driver-provider-azure"
SERVICE_NAME = "v1alpha1.CSIDriverProvider"
MOUNT_TIMEOUT_SECONDS = 30.0
DEADLINE_MARGIN_SECONDS = 1.0
MOUNT_ERROR_PREFIX = "failed to mount objects, error: "
WARNING_METADATA_KEY = "kvcsi-warning-bin"

log = logging.getLogger(__name__)


class _Progress:
    """The step a running mount is in, for the timeout message."""

    def __init__(self) -> None:
        self.step = "checking parameters"

    def set(self, step: str) -> None:
        self.step = step


class CSIDriverProviderServicer(provider_pb2_grpc.CSIDriverProviderServicer):
    """``Version`` and ``Mount`` over the mount core."""

    def __init__(self, gateway: KeyVaultGateway, settings: ProviderSettings | None = None, *,
                 mount_timeout: float = MOUNT_TIMEOUT_SECONDS, max_workers: int = 16) -> None:
        self._gateway = gateway
        self._settings = settings or ProviderSettings()
        self._mount_timeout = mount_timeout
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="kvcsi-mount")

    def Version(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return provider_pb2.VersionResponse(
            version=API_VERSION, runtime_name=RUNTIME_NAME, runtime_version=__version__)

    def _time_budget(self, context: grpc.ServicerContext) -> float:
        budget = self._mount_timeout
        remaining = context.time_remaining()
        if remaining is not None:
            budget = min(budget, remaining - DEADLINE_MARGIN_SECONDS)
        return max(budget, 0.1)

    def Mount(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        attributes = decode_request_attributes(request.attributes)
        pod = f"{attributes.get(POD_NAMESPACE, '')}/{attributes.get(POD_NAME, '')}"
        spc = attributes.get(SECRET_PROVIDER_CLASS, "")
        progress = _Progress()
        budget = self._time_budget(context)
        future = self._executor.submit(
            mount, request.attributes, request.secrets, request.permission,
            gateway=self._gateway, settings=self._settings, progress=progress.set)
        warnings: list[str] = []
        try:
            result = future.result(timeout=budget)
        except concurrent.futures.TimeoutError:
            cause = f"mount did not finish within {budget:g}s while {progress.step}"
        except MountError as error:
            cause = str(error)
            warnings = error.warnings
        except Exception as error:  # noqa: BLE001 - reported to the caller, never swallowed
            log.error("mount for pod %s failed unexpectedly: %s", pod, type(error).__name__,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            cause = f"internal error: {type(error).__name__}: {redact(str(error))}"
        else:
            self._report_warnings(context, result.warnings, spc, pod)
            log.info("mounted %d files for pod %s (SecretProviderClass %s)", len(result.files),
                     pod, spc)
            return provider_pb2.MountResponse(
                object_version=[provider_pb2.ObjectVersion(id=v.id, version=v.version)
                                for v in result.object_versions],
                files=[provider_pb2.File(path=f.path, mode=f.mode, contents=f.contents)
                       for f in result.files])
        self._report_warnings(context, warnings, spc, pod)
        log.warning("mount for pod %s (SecretProviderClass %s) failed: %s", pod, spc, cause)
        cause += "".join(f"\nwarning: {warning}" for warning in warnings)
        context.abort(grpc.StatusCode.UNKNOWN, MOUNT_ERROR_PREFIX + cause)

    @staticmethod
    def _report_warnings(context: grpc.ServicerContext, warnings: list[str], spc: str,
                         pod: str) -> None:
        for warning in warnings:
            log.warning("SecretProviderClass %s (pod %s): %s", spc, pod, warning)
        if warnings:
            context.set_trailing_metadata(tuple(
                (WARNING_METADATA_KEY, warning.encode("utf-8")) for warning in warnings))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class LoggingInterceptor(grpc.ServerInterceptor):
    """Logs method, duration and status of each unary call (never the request or response)."""

    def __init__(self, metrics: ProviderMetrics | None = None) -> None:
        self._metrics = metrics

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        method: str = details.method
        inner = handler.unary_unary

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            start = time.monotonic()
            failed = False
            try:
                return inner(request, context)
            except BaseException:
                failed = True
                raise
            finally:
                self._record(method, context, failed, time.monotonic() - start)

        return grpc.unary_unary_rpc_method_handler(
            observed, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)

    def _record(self, method: str, context: grpc.ServicerContext, failed: bool,
                seconds: float) -> None:
        code = context.code() or (grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK)
        message = context.details() or ""
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        # Go's code names: OK, Unknown, DeadlineExceeded, ...
        code_name = "OK" if code == grpc.StatusCode.OK else "".join(
            part.capitalize() for part in code.name.split("_"))
        log.log(logging.DEBUG if method.endswith("/Check") else logging.INFO,
                "grpc method=%s code=%s duration=%.3fs", method, code_name, seconds)
        if self._metrics is not None and method.startswith(f"/{SERVICE_NAME}/"):
            self._metrics.observe_grpc(method, code_name, message, seconds)


@dataclass
class ProviderServer:
    """A running provider server."""

    server: grpc.Server
    servicer: CSIDriverProviderServicer
    health: health.HealthServicer
    target: str
    socket_path: str | None

    def stop(self, grace: float | None = 1.0) -> None:
        self.server.stop(grace).wait()
        self.servicer.close()
        if self.socket_path:
            try:
                remove_stale_socket(self.socket_path)
            except OSError:
                pass


_umask_lock = threading.Lock()


def start_server(endpoint: str, servicer: CSIDriverProviderServicer, *,
                 metrics: ProviderMetrics | None = None, max_workers: int = 16) -> ProviderServer:
    """Listen on ``endpoint`` (``unix://`` or ``tcp://``) with the provider and health services.

    Raises :class:`~kvcsi.provider.endpoint.EndpointError` for a malformed endpoint and
    ``RuntimeError`` when the address cannot be bound.
    """
    parsed = parse_endpoint(endpoint)
    server = grpc.server(
        concurrent.futures.ThreadPoolExecutor(max_workers=max_workers,
                                              thread_name_prefix="kvcsi-grpc"),
        interceptors=[LoggingInterceptor(metrics)])
    provider_pb2_grpc.add_CSIDriverProviderServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)

    socket_path = parsed.address if parsed.scheme == "unix" else None
    target = parsed.grpc_target
    if socket_path:
        directory = os.path.dirname(socket_path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        remove_stale_socket(socket_path)
        with _umask_lock:
            previous = os.umask(SOCKET_UMASK)
            try:
                server.add_insecure_port(target)
                server.start()
            finally:
                os.umask(previous)
    else:
        port = server.add_insecure_port(target)
        server.start()
        host = target.rsplit(":", 1)[0]
        target = f"{host}:{port}"
    return ProviderServer(server, servicer, health_servicer, target, socket_path)
