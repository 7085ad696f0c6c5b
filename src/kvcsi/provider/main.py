"""``secrets-store-csi-driver-provider-azure``: the provider process and its flags.

Upstream counterpart: ``cmd/main.go``. Flags keep upstream's names and defaults; Go-style
``--flag=value`` and bare boolean ``--flag`` both work.

==========================================  =========================  ==========================
flag                                        default                    notes
==========================================  =========================  ==========================
``--endpoint``                              ``unix:///tmp/azure.sock``  ``unix://`` or ``tcp://``
``--cloud-name``                            ``AzurePublicCloud``       when a class has none
``--construct-pem-chain``                   true                       PKCS#12 chain leaf → root
``--write-cert-and-key-in-separate-files``  false                      also ``<file>.crt/.key``
``--healthz-port`` / ``--healthz-path``     8989 / ``/healthz``        port 0 disables
``--healthz-timeout``                       ``5s``
``--metrics-backend``                       ``Prometheus``             only Prometheus
``--prometheus-port``                       8898                       port 0 disables
``--log-format-json``                       false
``-v``                                      0                          1+ = debug
``--version``                                                          prints JSON and exits
==========================================  =========================  ==========================

Accepted and ignored for manifest compatibility: ``--enable-pprof``, ``--pprof-port``,
``--custom-user-agent``, ``--token-proxy-url``, ``--sni-name``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import re
import signal
import sys
import threading

from kvcsi import __version__
from kvcsi.provider.clouds import AZURE_PUBLIC_CLOUD, is_known_cloud_name
from kvcsi.provider.endpoint import EndpointError
from kvcsi.provider.healthz import HealthzServer
from kvcsi.provider.keyvault import AzureKeyVault, MeteredKeyVault
from kvcsi.provider.logs import configure_logging
from kvcsi.provider.metrics import ProviderMetrics
from kvcsi.provider.mount import ProviderSettings
from kvcsi.provider.params import BoolSyntaxError, parse_go_bool
from kvcsi.provider.server import CSIDriverProviderServicer, start_server

DEFAULT_ENDPOINT = "unix:///tmp/azure.sock"
log = logging.getLogger("kvcsi.provider")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float:
    """Seconds in a Go duration such as ``5s``, ``500ms``, ``1m30s``."""
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def go_bool(text: str) -> bool:
    try:
        return parse_go_bool(text)
    except BoolSyntaxError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def klog_level(text: str) -> int:
    return int(text.lstrip("="))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secrets-store-csi-driver-provider-azure",
        description="Azure Key Vault provider for the Secrets Store CSI driver (kvcsi).")

    def flag(name: str, default: bool, help_text: str) -> None:
        parser.add_argument(name, nargs="?", const=True, default=default, type=go_bool,
                            metavar="BOOL", help=help_text)

    parser.add_argument("--endpoint", default=DEFAULT_ENDPOINT,
                        help="gRPC endpoint, unix:///path or tcp://host:port")
    parser.add_argument("--cloud-name", default=AZURE_PUBLIC_CLOUD,
                        help="cloud used when a SecretProviderClass names none")
    flag("--construct-pem-chain", True, "order certificate chains leaf to root")
    flag("--write-cert-and-key-in-separate-files", False,
         "also write <file>.crt and <file>.key for certificates")
    parser.add_argument("--healthz-port", type=int, default=8989, help="0 disables")
    parser.add_argument("--healthz-path", default="/healthz")
    parser.add_argument("--healthz-timeout", type=go_duration, default=5.0)
    parser.add_argument("--metrics-backend", default="Prometheus")
    parser.add_argument("--prometheus-port", type=int, default=8898, help="0 disables")
    flag("--log-format-json", False, "log JSON lines")
    parser.add_argument("-v", "--v", dest="verbosity", type=klog_level, default=0,
                        help="log verbosity (klog)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    for ignored in ("--custom-user-agent", "--token-proxy-url", "--sni-name", "--pprof-port"):
        parser.add_argument(ignored, help=argparse.SUPPRESS)
    flag("--enable-pprof", False, argparse.SUPPRESS)
    return parser


def version_json() -> str:
    return json.dumps({"version": __version__, "buildDate": "",
                       "platform": f"{platform.system().lower()}/{platform.machine()}"})


def _self_target(server_target: str) -> str:
    """The address the healthz probe dials to reach this process's gRPC server."""
    if server_target.startswith("unix:"):
        return server_target
    host, port = server_target.rsplit(":", 1)
    return f"127.0.0.1:{port}" if host in ("", "0.0.0.0", "[::]") else server_target


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        print(version_json())
        return 0
    configure_logging(args.log_format_json, args.verbosity)

    if not is_known_cloud_name(args.cloud_name):
        log.error("failed to get cloud environment for %s: autorest/azure: There is no cloud "
                  'environment matching the name "%s"', args.cloud_name, args.cloud_name.upper())
        return 1
    if args.metrics_backend.lower() != "prometheus":
        log.error("unsupported metrics backend %s", args.metrics_backend)
        return 1

    metrics = ProviderMetrics()
    if args.prometheus_port > 0:
        try:
            metrics.serve(args.prometheus_port)
        except OSError as error:
            log.warning("metrics server not started on port %d: %s", args.prometheus_port, error)

    settings = ProviderSettings(
        default_cloud=args.cloud_name,
        construct_pem_chain=args.construct_pem_chain,
        write_cert_and_key_in_separate_files=args.write_cert_and_key_in_separate_files)
    gateway = MeteredKeyVault(AzureKeyVault(), metrics.observe_keyvault)
    servicer = CSIDriverProviderServicer(gateway, settings)
    try:
        running = start_server(args.endpoint, servicer, metrics=metrics)
    except EndpointError as error:
        log.error("%s", error)
        return 1
    except RuntimeError as error:
        log.error("failed to listen on %s: %s", args.endpoint, error)
        return 1
    log.info("provider %s listening on %s (cloud %s)", __version__, args.endpoint,
             args.cloud_name)

    healthz = None
    if args.healthz_port > 0:
        healthz = HealthzServer(_self_target(running.target), args.healthz_port,
                                args.healthz_path, args.healthz_timeout)
        healthz.start()

    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    stopping.wait()
    if healthz is not None:
        healthz.stop()
    running.stop(grace=2.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
