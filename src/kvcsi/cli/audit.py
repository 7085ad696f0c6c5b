"""``kvcsi audit``: the local Key Vault's audit log, filtered.

::

    kvcsi audit [--vault V] [--caller OID|CLIENT_ID|NAME] [--result allowed|denied|...]
                [--operation getSecret] [--since 10m] [--top N] [-o table|json]

Reads ``GET /providers/kvcsi/auditEvents`` on the local management endpoint with the
signed-in local account's token. ``--since`` takes a duration (``30s``, ``10m``, ``2h``,
``1d``) or an ISO 8601 time. Events never hold secret values or tokens.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kvcsi.cli.home import Home, NotRunning
from kvcsi.cli.session import AzError, Session

AUDIT_PATH = "/providers/kvcsi/auditEvents"
API_VERSION = "2025-01-01"
RESULTS = ("allowed", "denied", "unauthenticated", "failed")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TABLE_COLUMNS = (("Time", "time"), ("Result", "result"), ("Status", "httpStatus"),
                 ("Operation", "operation"), ("Vault", "vault"), ("Object", "object"),
                 ("Caller", "caller"), ("Detail", "detail"))


def parse_since(text: str, now: float | None = None) -> float:
    """Epoch seconds of ``--since``: a duration back from now, or an ISO 8601 time."""
    now = time.time() if now is None else now
    match = _DURATION.match(text.strip())
    if match:
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid --since '{text}': use a duration such as 10m, 2h, 1d or an ISO time"
        ) from None
    return moment.timestamp()


def _row(event: dict[str, Any]) -> dict[str, str]:
    name = event.get("objectName", "")
    version = event.get("objectVersion", "")
    obj = f"{event.get('objectType', '')}/{name}" if name else ""
    caller = event.get("callerName") or event.get("callerObjectId") or "-"
    detail = (event.get("grantedBy") if event.get("result") == "allowed"
              else f"{event.get('errorCode', '')}: {event.get('reason', '')}".strip(": "))
    return {"time": event["time"], "result": event["result"],
            "httpStatus": str(event["httpStatus"]), "operation": event["operation"],
            "vault": event["vault"], "object": obj + (f"/{version}" if version else ""),
            "caller": caller, "detail": detail or ""}


def to_table(events: list[dict[str, Any]]) -> str:
    rows = [_row(event) for event in events]
    headers = [title for title, _ in TABLE_COLUMNS]
    cells = [[row[key] for _, key in TABLE_COLUMNS] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kvcsi audit", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vault")
    parser.add_argument("--caller", help="object id, client id or display name")
    parser.add_argument("--result", choices=RESULTS)
    parser.add_argument("--operation", help="getSecret, setSecret, listSecrets, getKey, ...")
    parser.add_argument("--since", type=parse_since, help="10m, 2h, 1d or an ISO time")
    parser.add_argument("--top", type=int, help="only the newest N matching events")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    return parser


def query_params(args: argparse.Namespace) -> dict[str, str]:
    params = {"vault": args.vault, "caller": args.caller, "result": args.result,
              "operation": args.operation,
              "since": None if args.since is None else f"{args.since:.3f}",
              "top": None if args.top is None else str(args.top)}
    return {key: value for key, value in params.items() if value}


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    session = Session(Home.from_environment())
    try:
        events = session.arm_call("GET", AUDIT_PATH, API_VERSION,
                                  params=query_params(args)).get("value", [])
    except NotRunning as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    except AzError as error:
        sys.stderr.write(error.render() + "\n")
        return error.exit_code
    print(json.dumps(events, indent=2) if args.output == "json" else to_table(events))
    return 0
