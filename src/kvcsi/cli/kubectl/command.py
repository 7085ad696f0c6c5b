"""Parse ``kvcsi kubectl ...`` and run it: kubectl's output lines, errors and exit codes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import yaml

from kvcsi.cli.home import Home
from kvcsi.cli.kubectl import annotate as annotate_command
from kvcsi.cli.kubectl.context import KubeContext, KubectlError, split_reference
from kvcsi.cli.kubectl.podview import describe_pod, is_ready, pod_status_word, ready_count, restarts
from kvcsi.cli.kubectl.timefmt import age, parse_duration
from kvcsi.cluster import ClusterError, ManifestError, apply_documents, load_documents, load_file


class _KubectlParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(1)


def _namespace(args: argparse.Namespace) -> str:
    return args.namespace or "default"


def cmd_apply(ctx: KubeContext, args: argparse.Namespace) -> int:
    documents = []
    for source in args.filename:
        if source == "-":
            documents.extend(load_documents(sys.stdin.read(), "STDIN"))
        else:
            documents.extend(load_file(source))
    result = apply_documents(ctx.store, documents, args.namespace)
    if result.stdout_text():
        sys.stdout.write(result.stdout_text().rstrip("\n") + "\n")
    if result.stderr_text():
        sys.stderr.write(result.stderr_text().rstrip("\n") + "\n")
    return result.exit_code


def _pod_row(pod: dict[str, Any]) -> list[str]:
    return [pod["metadata"]["name"], ready_count(pod), pod_status_word(pod), str(restarts(pod)),
            age(pod["metadata"].get("creationTimestamp"))]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in [headers, *rows])


def cmd_get(ctx: KubeContext, args: argparse.Namespace) -> int:
    word, name = split_reference(args.resource, None)
    if args.name:
        name = args.name
    info = ctx.kind(word)
    namespace = None if args.all_namespaces else _namespace(args)
    if name:
        objects = [ctx.store.get(info.api_version, info.kind, namespace, name)]
    else:
        objects = ctx.store.list(info.api_version, info.kind, namespace)
    if args.output in ("json", "yaml"):
        payload: Any = objects[0] if name else {"apiVersion": "v1", "kind": "List",
                                                 "items": objects}
        text = json.dumps(payload, indent=4) if args.output == "json" else yaml.safe_dump(
            payload, sort_keys=False)
        sys.stdout.write(text.rstrip("\n") + "\n")
        return 0
    if args.output == "name":
        for obj in objects:
            print(f"{info.kubectl_type}/{obj['metadata']['name']}")
        return 0
    if not objects:
        where = "" if namespace is None else f" in {namespace} namespace"
        sys.stderr.write(f"No resources found{where}.\n")
        return 0
    if info.kind == "Pod":
        rows = [_pod_row(pod) for pod in objects]
        headers = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    else:
        rows = [[o["metadata"]["name"], age(o["metadata"].get("creationTimestamp"))]
                for o in objects]
        headers = ["NAME", "AGE"]
    if args.all_namespaces and info.namespaced:
        headers = ["NAMESPACE", *headers]
        rows = [[o["metadata"].get("namespace", ""), *r] for o, r in zip(objects, rows,
                                                                          strict=True)]
    print(_table(headers, rows))
    return 0


def cmd_describe(ctx: KubeContext, args: argparse.Namespace) -> int:
    word, name = split_reference(args.resource, None)
    name = args.name or name
    info = ctx.kind(word)
    if info.kind != "Pod" or not name:
        raise KubectlError("error: kvcsi kubectl describe supports: describe pod <name>")
    pod = ctx.store.get("v1", "Pod", _namespace(args), name)
    print(describe_pod(pod, ctx.store.events_for(pod)))
    return 0


def cmd_wait(ctx: KubeContext, args: argparse.Namespace) -> int:
    condition = args.condition
    if not condition.startswith("condition=") and condition != "delete":
        raise KubectlError(f"error: unrecognized condition: {condition!r}")
    wanted = condition.split("=", 1)[1] if condition != "delete" else None
    try:
        timeout = parse_duration(args.timeout)
    except ValueError as error:
        raise KubectlError(f"error: {error}") from None
    word, name = split_reference(args.resource, None)
    info = ctx.kind(word)
    deadline = time.monotonic() + timeout
    while True:
        try:
            obj = ctx.store.get(info.api_version, info.kind, _namespace(args), name)
        except ClusterError:
            if wanted is None:
                print(f"{info.kubectl_type}/{name} condition met")
                return 0
            raise
        if wanted is not None and _condition_true(obj, wanted):
            print(f"{info.kubectl_type}/{name} condition met")
            return 0
        if time.monotonic() >= deadline:
            raise KubectlError(
                f"error: timed out waiting for the condition on {info.plural}/{name}")
        time.sleep(0.2)


def _condition_true(obj: dict[str, Any], wanted: str) -> bool:
    if wanted.lower() == "ready" and obj.get("kind") == "Pod":
        return is_ready(obj)
    return any(c.get("type", "").lower() == wanted.lower() and c.get("status") == "True"
               for c in obj.get("status", {}).get("conditions", []) or [])


def cmd_exec(ctx: KubeContext, args: argparse.Namespace) -> int:
    from kvcsi.node.exec import PodAccessError, exec_in_pod

    try:
        return exec_in_pod(ctx.home.root, ctx.cluster, _namespace(args), args.pod,
                           args.container, args.command)
    except PodAccessError as error:
        raise KubectlError(str(error)) from None


def cmd_logs(ctx: KubeContext, args: argparse.Namespace) -> int:
    from kvcsi.node.exec import PodAccessError, read_logs

    try:
        data = read_logs(ctx.home.root, ctx.cluster, _namespace(args), args.pod, args.container)
    except PodAccessError as error:
        raise KubectlError(str(error)) from None
    sys.stdout.buffer.write(data)
    return 0


def cmd_delete(ctx: KubeContext, args: argparse.Namespace) -> int:
    targets: list[tuple[Any, str, str]] = []
    if args.filename:
        for source in args.filename:
            for document in load_file(source):
                obj = document.obj
                info = ctx.store.resolve_kind(obj["apiVersion"], obj["kind"])
                namespace = obj["metadata"].get("namespace") or _namespace(args)
                targets.append((info, namespace, obj["metadata"]["name"]))
    else:
        word, name = split_reference(args.resource or "", None)
        names = ([name] if name else []) + list(args.names)
        if not names:
            raise KubectlError("error: resource(s) were provided, but no name was specified")
        info = ctx.kind(word)
        targets = [(info, _namespace(args), n) for n in names]
    status = 0
    for info, namespace, name in targets:
        try:
            ctx.store.delete(info.api_version, info.kind, namespace, name)
            print(f'{info.kubectl_type} "{name}" deleted')
        except ClusterError as error:
            sys.stderr.write(error.kubectl_text() + "\n")
            status = 1
            continue
        if args.wait and info.kind == "Pod":
            _wait_gone(ctx, info, namespace, name)
    return status


def _wait_gone(ctx: KubeContext, info: Any, namespace: str, name: str,
               timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ctx.store.get(info.api_version, info.kind, namespace, name)
        except ClusterError:
            return
        time.sleep(0.2)


def build_parser() -> argparse.ArgumentParser:
    parser = _KubectlParser(prog="kvcsi kubectl")
    parser.add_argument("--namespace", "-n")
    commands = parser.add_subparsers(dest="verb", required=True, parser_class=_KubectlParser)
    namespaced = argparse.ArgumentParser(add_help=False)
    namespaced.add_argument("--namespace", "-n")

    apply = commands.add_parser("apply", parents=[namespaced])
    apply.add_argument("-f", "--filename", action="append", required=True)
    apply.set_defaults(handler=cmd_apply)

    get = commands.add_parser("get", parents=[namespaced])
    get.add_argument("resource")
    get.add_argument("name", nargs="?")
    get.add_argument("-o", "--output", choices=["json", "yaml", "name", "wide"])
    get.add_argument("-A", "--all-namespaces", action="store_true")
    get.set_defaults(handler=cmd_get)

    describe = commands.add_parser("describe", parents=[namespaced])
    describe.add_argument("resource")
    describe.add_argument("name", nargs="?")
    describe.set_defaults(handler=cmd_describe)

    wait = commands.add_parser("wait", parents=[namespaced])
    wait.add_argument("resource")
    wait.add_argument("--for", dest="condition", required=True)
    wait.add_argument("--timeout", default="30s")
    wait.set_defaults(handler=cmd_wait)

    exec_parser = commands.add_parser("exec", parents=[namespaced])
    exec_parser.add_argument("pod")
    exec_parser.add_argument("-c", "--container")
    exec_parser.add_argument("-i", "--stdin", action="store_true")
    exec_parser.add_argument("-t", "--tty", action="store_true")
    exec_parser.add_argument("command", nargs="*")
    exec_parser.set_defaults(handler=cmd_exec)

    logs = commands.add_parser("logs", parents=[namespaced])
    logs.add_argument("pod")
    logs.add_argument("-c", "--container")
    logs.set_defaults(handler=cmd_logs)

    delete = commands.add_parser("delete", parents=[namespaced])
    delete.add_argument("resource", nargs="?")
    delete.add_argument("names", nargs="*")
    delete.add_argument("-f", "--filename", action="append")
    delete.add_argument("--wait", default=True, type=lambda v: v.lower() != "false")
    delete.set_defaults(handler=cmd_delete)

    annotate_command.add_parser(commands, namespaced)
    return parser


def run(argv: Sequence[str]) -> int:
    argv = list(argv)
    if "exec" in argv and "--" in argv:
        cut = argv.index("--")
        head, tail = argv[:cut], argv[cut + 1:]
        args = build_parser().parse_args(head)
        args.command = tail
    else:
        args = build_parser().parse_args(argv)
    if getattr(args, "command", None) and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    try:
        ctx = KubeContext.current(Home.from_environment())
        return int(args.handler(ctx, args))
    except KubectlError as error:
        sys.stderr.write(error.text + "\n")
        return error.exit_code
    except ManifestError as error:
        sys.stderr.write(error.kubectl_text() + "\n")
        return 1
    except ClusterError as error:
        sys.stderr.write(error.kubectl_text() + "\n")
        return 1
