"""``python -m kvcsi.node --home DIR``: the local kubelet for every registered cluster.

Flags: ``--home`` (default ``$KVCSI_HOME`` or ``~/.kvcsi``), ``--sync-period`` (republish
period in seconds, default 60), ``--mount-backoff-cap`` (seconds, default 5),
``--poll-interval`` (seconds, default 0.2), ``--log-file``, ``-v``. SIGTERM and SIGINT stop
it cleanly: containers stopped, volumes unpublished, plugins stopped, ``run/node.ready``
removed.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from kvcsi.node.runtime import NodeRuntime
from kvcsi.node.settings import KubeletSettings
from kvcsi.node.supervisor import Backoff


def default_home() -> Path:
    return Path(os.environ.get("KVCSI_HOME") or Path.home() / ".kvcsi")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kvcsi.node",
                                     description="kvcsi local node runtime (kubelet)")
    parser.add_argument("--home", type=Path, default=None, help="state dir ($KVCSI_HOME)")
    parser.add_argument("--sync-period", type=float, default=60.0,
                        help="seconds between republishes for requiresRepublish drivers")
    parser.add_argument("--mount-backoff-cap", type=float, default=5.0,
                        help="longest wait between volume set-up retries, in seconds")
    parser.add_argument("--poll-interval", type=float, default=0.2,
                        help="seconds between store and process checks")
    parser.add_argument("--log-file", type=Path, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    home = (args.home or default_home()).expanduser().resolve()
    os.environ["KVCSI_HOME"] = str(home)
    os.environ.setdefault("KVCSI_LOOPBACK_ONLY", "1")
    os.environ.setdefault("KVCSI_RESOLVE_LOCALHOST", "1")
    handler: logging.Handler
    if args.log_file:
        args.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(args.log_file)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        handlers=[handler], force=True)
    settings = KubeletSettings(mount_backoff=Backoff(0.5, 2.0, args.mount_backoff_cap),
                               sync_period=args.sync_period, poll_interval=args.poll_interval)
    runtime = NodeRuntime(home, settings)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %d: shutting down", signum)
        runtime.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logging.getLogger(__name__).info("node runtime started for %s", home)
    runtime.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
