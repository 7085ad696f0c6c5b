"""``kvcsi-cloud``: the local Azure (Entra-like token service, IMDS, ARM, Key Vault) as one
process.

    kvcsi-cloud --home DIR [--https-port N] [--imds-port N] [--keyvault-delay-ms N]
                [--log-level LEVEL]

Initialises ``DIR/cloud/`` on first start (CA, server certificate, signing key, tenant,
subscription, the local account), listens on 127.0.0.1 (HTTPS and plain-HTTP IMDS; port 0
picks a free port), writes ``cloud/endpoints.json`` and ``cloud/environment.json``, and
removes ``endpoints.json`` when it exits on SIGTERM or SIGINT. ``--keyvault-delay-ms`` adds a
fixed delay to every Key Vault request (latency for benchmarks). Logs go to stderr and never
contain tokens or secret values.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from kvcsi.cloud.endpoints import DEFAULT_HTTPS_PORT, DEFAULT_IMDS_PORT
from kvcsi.cloud.server import CloudOptions, LocalCloudServer

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def parse_args(argv: list[str] | None = None) -> CloudOptions:
    parser = argparse.ArgumentParser(
        prog="kvcsi-cloud",
        description="The local Azure: Entra-like token service, IMDS, ARM and Key Vault.")
    parser.add_argument("--home", default=os.environ.get("KVCSI_HOME", "~/.kvcsi"),
                        help="state directory (default: $KVCSI_HOME or ~/.kvcsi)")
    parser.add_argument("--https-port", type=int, default=DEFAULT_HTTPS_PORT,
                        help=f"HTTPS port for Entra, ARM, Graph and Key Vault "
                             f"(default {DEFAULT_HTTPS_PORT}; 0 = any free port)")
    parser.add_argument("--imds-port", type=int, default=DEFAULT_IMDS_PORT,
                        help=f"plain-HTTP port of IMDS (default {DEFAULT_IMDS_PORT}; "
                             "0 = any free port)")
    parser.add_argument("--keyvault-delay-ms", type=int, default=0,
                        help="delay added to every Key Vault request, in milliseconds "
                             "(benchmarks; default 0)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    args = parser.parse_args(argv)
    if args.keyvault_delay_ms < 0:
        parser.error("--keyvault-delay-ms must not be negative")
    return CloudOptions(home=Path(args.home).expanduser(), https_port=args.https_port,
                        imds_port=args.imds_port, keyvault_delay_ms=args.keyvault_delay_ms,
                        log_level=args.log_level)


async def _serve(server: LocalCloudServer) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stop)
    await server.serve()


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=options.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = LocalCloudServer(options)
    try:
        asyncio.run(_serve(server))
    except OSError as error:
        logging.getLogger("kvcsi.cloud").error(
            "cannot listen on 127.0.0.1 port %d (HTTPS) / %d (IMDS): %s; choose other ports "
            "with --https-port/--imds-port (kvcsi up: KVCSI_HTTPS_PORT/KVCSI_IMDS_PORT, "
            "0 picks free ones)", options.https_port, options.imds_port, error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
