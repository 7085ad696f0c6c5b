"""``secrets-store-csi-driver``: flags, wiring and the serve loop of the driver process.

Upstream counterpart: ``cmd/secrets-store-csi-driver/main.go`` and
``pkg/secrets-store/secrets-store.go``. Flag names and defaults are the upstream ones
(reference notes §2.7); Go-style spellings are accepted too (``-endpoint=...``,
``--enable-secret-rotation=true``, ``-v=5``). The cluster store comes from
``$KVCSI_CLUSTER_STORE`` (local-wiring §5).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

import kvcsi
from kvcsi.driver.durations import parse_duration
from kvcsi.driver.metrics import DriverMetrics, parse_metrics_addr, serve_metrics
from kvcsi.driver.provider_client import DEFAULT_MAX_CALL_RECV_MSG_SIZE

PROG = "secrets-store-csi-driver"
DEFAULT_DRIVER_NAME = "secrets-store.csi.k8s.io"
DEFAULT_ENDPOINT = "unix://tmp/csi.sock"
DEFAULT_PROVIDER_VOLUME = "/var/run/secrets-store-csi-providers"
DEFAULT_ADDITIONAL_PROVIDER_VOLUME_PATHS = "/etc/kubernetes/secrets-store-csi-providers"
TMPFS_HEADROOM_BYTES = 1024 * 1024
# Accepted for compatibility with upstream manifests; they change nothing here.
IGNORED_FLAGS = (
    "metrics_backend",
    "enable_pprof",
    "pprof_port",
    "provider_health_check",
    "provider_health_check_interval",
)

log = logging.getLogger("kvcsi.driver")


def parse_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Secrets Store CSI driver (kvcsi)")

    def flag_bool(name: str, help_text: str) -> None:
        parser.add_argument(
            name,
            nargs="?",
            const=True,
            default=False,
            type=parse_bool,
            metavar="BOOL",
            help=help_text,
        )

    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help="CSI endpoint")
    parser.add_argument("--drivername", default=DEFAULT_DRIVER_NAME, help="name of the driver")
    parser.add_argument("--nodeid", default="", help="node id (the node name)")
    parser.add_argument(
        "--provider-volume",
        default=DEFAULT_PROVIDER_VOLUME,
        help="volume path for provider sockets",
    )
    parser.add_argument(
        "--additional-provider-volume-paths",
        default=DEFAULT_ADDITIONAL_PROVIDER_VOLUME_PATHS,
        help="comma-separated extra provider socket dirs, searched first",
    )
    flag_bool("--enable-secret-rotation", "call the provider again on kubelet republish")
    parser.add_argument(
        "--rotation-poll-interval",
        type=_duration,
        default=120.0,
        metavar="DURATION",
        help="minimum time between rotations (Go duration)",
    )
    parser.add_argument(
        "--max-call-recv-msg-size",
        type=int,
        default=DEFAULT_MAX_CALL_RECV_MSG_SIZE,
        help="maximum size in bytes of a provider's gRPC response",
    )
    parser.add_argument(
        "--metrics-addr", default=":8095", help="address for /metrics; empty or 0 disables"
    )
    flag_bool("--log-format-json", "log as JSON lines")
    parser.add_argument(
        "-v",
        "--v",
        type=int,
        default=0,
        dest="verbosity",
        help="log verbosity (5 logs sanitised CSI requests)",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--metrics-backend", default="Prometheus", help=argparse.SUPPRESS)
    flag_bool("--enable-pprof", argparse.SUPPRESS)
    parser.add_argument("--pprof-port", type=int, default=6065, help=argparse.SUPPRESS)
    flag_bool("--provider-health-check", argparse.SUPPRESS)
    parser.add_argument(
        "--provider-health-check-interval", type=_duration, default=120.0, help=argparse.SUPPRESS
    )
    return parser


def normalise_go_flags(argv: Sequence[str]) -> list[str]:
    """``-endpoint=x`` -> ``--endpoint=x`` (Go's flag package takes one or two dashes)."""
    out: list[str] = []
    for arg in argv:
        if arg.startswith("-") and not arg.startswith("--") and len(arg.split("=", 1)[0]) > 2:
            arg = "-" + arg
        out.append(arg)
    return out


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created * 1000, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["err"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(verbosity: int, json_format: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_format:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname).1s %(name)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("kvcsi").setLevel(logging.DEBUG if verbosity >= 5 else logging.INFO)


def version_text() -> str:
    return json.dumps({"BuildVersion": kvcsi.__version__, "Implementation": "kvcsi"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(normalise_go_flags(sys.argv[1:] if argv is None else argv))
    if args.version:
        print(version_text())
        return 0
    configure_logging(args.verbosity, args.log_format_json)
    try:
        parse_metrics_addr(args.metrics_addr)
    except ValueError as error:
        log.error("%s", error)
        return 2
    for name in IGNORED_FLAGS:
        if getattr(args, name) != parser.get_default(name):
            flag = name.replace("_", "-")
            log.warning("--%s is accepted for compatibility and has no effect", flag)

    from kvcsi.cluster.errors import ClusterError
    from kvcsi.cluster.store import connect

    try:
        store = connect()
    except ClusterError as error:
        log.error("cannot open the cluster store: %s", error)
        return 1
    return run(args, store)


def run(args: argparse.Namespace, store: object, stop: threading.Event | None = None) -> int:
    """Serve until SIGTERM/SIGINT (or until ``stop`` is set)."""
    from kvcsi._proto import csi_pb2_grpc
    from kvcsi.driver.controller import ControllerServicer
    from kvcsi.driver.identity import IdentityServicer
    from kvcsi.driver.mounter import default_mounter
    from kvcsi.driver.node import NodeServicer
    from kvcsi.driver.provider_client import ProviderClients
    from kvcsi.driver.publisher import PublisherConfig, VolumePublisher
    from kvcsi.driver.secret_sync_reconciler import SecretSyncReconciler
    from kvcsi.driver.server import build_server, parse_endpoint

    endpoint = parse_endpoint(args.endpoint)
    socket_dirs = [p.strip() for p in args.additional_provider_volume_paths.split(",") if p.strip()]
    socket_dirs.append(args.provider_volume)
    providers = ProviderClients(socket_dirs, args.max_call_recv_msg_size)
    metrics = DriverMetrics()
    publisher = VolumePublisher(
        PublisherConfig(
            node_id=args.nodeid,
            rotation_enabled=args.enable_secret_rotation,
            rotation_poll_interval=args.rotation_poll_interval,
        ),
        store,  # type: ignore[arg-type]
        providers,
        default_mounter(2 * args.max_call_recv_msg_size + TMPFS_HEADROOM_BYTES),
        metrics,
    )
    identity = IdentityServicer(args.drivername, kvcsi.__version__)
    node = NodeServicer(args.nodeid, publisher)
    server, address = build_server(
        endpoint,
        [
            lambda s: csi_pb2_grpc.add_IdentityServicer_to_server(identity, s),
            lambda s: csi_pb2_grpc.add_ControllerServicer_to_server(ControllerServicer(), s),
            lambda s: csi_pb2_grpc.add_NodeServicer_to_server(node, s),
        ],
    )
    try:
        serve_metrics(metrics, args.metrics_addr)
    except OSError as error:
        log.error("metrics disabled: cannot listen on %s: %s", args.metrics_addr, error)

    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(signum, lambda *_: stop.set())
        except ValueError:  # not the main thread (tests)
            pass
    server.start()
    reconciler = SecretSyncReconciler(store, publisher.syncer, args.nodeid, args.drivername)
    reconciler.start()
    log.info("Listening for connections on address: %s://%s", endpoint.scheme, address)
    log.info("driver %s version %s node %s", args.drivername, kvcsi.__version__, args.nodeid)
    while not stop.wait(1.0):
        pass
    log.info("shutting down")
    reconciler.stop()
    server.stop(grace=5).wait()
    providers.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
