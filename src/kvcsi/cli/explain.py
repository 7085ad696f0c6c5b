"""``kvcsi explain``: why an identity (or a pod) may or may not read a Key Vault object.

Two forms::

    kvcsi explain --assignee <clientId|objectId|name> --vault V
                  [--secret NAME | --key NAME | --certificate NAME] [--action getSecret|...]
    kvcsi explain pod NAME [-n NAMESPACE] [--cluster CLUSTER]

The question goes to the local cloud's ``POST /providers/kvcsi/explain`` with the signed-in
local account's ARM token (as ``kvcsi az`` does); the pod form first follows the pod's chain
in the cluster store (:mod:`kvcsi.cli.explain_pod`). Output: human text, or ``-o json``.
Exit status: 0 allowed, 1 denied, 2 when the question cannot be answered.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from kvcsi.cli.explain_text import answer_lines
from kvcsi.cli.home import Home, NotRunning
from kvcsi.cli.session import AzError, Session

EXPLAIN_PATH = "/providers/kvcsi/explain"
API_VERSION = "2025-01-01"
EXIT_ALLOWED, EXIT_DENIED, EXIT_ERROR = 0, 1, 2


class ExplainFailure(Exception):
    """The question cannot be answered (missing pod, class, node...)."""


def ask(session: Session, question: dict[str, Any]) -> dict[str, Any]:
    """The cloud's answer to one explain question."""
    return dict(session.arm_call("POST", EXPLAIN_PATH, API_VERSION, question))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_ERROR)


def _identity_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kvcsi explain", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignee", required=True,
                        help="client id, object id or name of the identity")
    parser.add_argument("--vault", required=True, help="vault name")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--secret", help="secret name")
    target.add_argument("--key", help="key name")
    target.add_argument("--certificate", help="certificate name")
    parser.add_argument("--action", help="operation (getSecret, listSecrets, getKey, ...); "
                                         "default: get of the object, else listSecrets")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    return parser


def _pod_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kvcsi explain pod",
                     description="Follow a pod's chain: SecretProviderClass, identity mode, "
                                 "the identity IMDS returns on its node, RBAC per object.")
    parser.add_argument("name")
    parser.add_argument("-n", "--namespace", default="default")
    parser.add_argument("--cluster", help="cluster name (default: the current cluster)")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    return parser


def identity_question(args: argparse.Namespace) -> dict[str, Any]:
    objects = [{"type": kind, "name": name} for kind, name in (
        ("secret", args.secret), ("key", args.key), ("certificate", args.certificate)) if name]
    question: dict[str, Any] = {"identity": {"assignee": args.assignee}, "vault": args.vault,
                                "objects": objects}
    if args.action:
        question["action"] = args.action
    return question


def _explain_identity(session: Session, args: argparse.Namespace) -> int:
    answer = ask(session, identity_question(args))
    if args.output == "json":
        print(json.dumps(answer, indent=2))
    else:
        print("\n".join(answer_lines(answer)))
        print("result: " + ("ALLOWED" if answer["allowed"] else "DENIED"))
    return EXIT_ALLOWED if answer["allowed"] else EXIT_DENIED


def _explain_pod(session: Session, args: argparse.Namespace) -> int:
    from kvcsi.cli.explain_pod import explain_pod, pod_lines

    report = explain_pod(session, args.namespace, args.name, args.cluster)
    if args.output == "json":
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(pod_lines(report)))
    return EXIT_ALLOWED if report["allowed"] else EXIT_DENIED


def run(argv: Sequence[str]) -> int:
    argv = list(argv)
    pod_form = bool(argv) and argv[0] == "pod"
    args = _pod_parser().parse_args(argv[1:]) if pod_form else \
        _identity_parser().parse_args(argv)
    session = Session(Home.from_environment())
    try:
        return _explain_pod(session, args) if pod_form else _explain_identity(session, args)
    except NotRunning as error:
        sys.stderr.write(f"error: {error}\n")
    except AzError as error:
        sys.stderr.write(error.render() + "\n")
    except ExplainFailure as error:
        sys.stderr.write(f"error: {error}\n")
    return EXIT_ERROR
