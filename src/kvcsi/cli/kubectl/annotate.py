"""``kvcsi kubectl annotate``: set or remove annotations, with kubectl's texts.

Counterpart: ``kubectl annotate [--overwrite] TYPE NAME KEY=VAL ... KEY-``. Used among
others for the driver's on-demand refresh
(``secrets-store.csi.x-k8s.io/refresh=<new value>`` on a Pod or SecretProviderClass).
"""

from __future__ import annotations

import argparse
from typing import Any

from kvcsi.cli.kubectl.context import KubeContext, KubectlError, split_reference


def parse_changes(items: list[str]) -> tuple[dict[str, str], list[str]]:
    """``KEY=VAL`` pairs to set and ``KEY-`` keys to remove."""
    sets: dict[str, str] = {}
    removes: list[str] = []
    for item in items:
        if "=" in item:
            key, value = item.split("=", 1)
            if not key:
                raise KubectlError(f"error: invalid annotation format: {item}")
            sets[key] = value
        elif item.endswith("-") and len(item) > 1:
            removes.append(item[:-1])
        else:
            raise KubectlError(f"error: invalid annotation format: {item}")
    if not sets and not removes:
        raise KubectlError("error: at least one annotation update is required")
    return sets, removes


def apply_changes(obj: dict[str, Any], sets: dict[str, str], removes: list[str],
                  overwrite: bool) -> None:
    annotations = dict((obj.setdefault("metadata", {}).get("annotations")) or {})
    if not overwrite:
        clashes = [key for key, value in sets.items()
                   if key in annotations and annotations[key] != value]
        if clashes:
            found = ", ".join(f"'{key}' already has a value ({annotations[key]})"
                              for key in clashes)
            raise KubectlError(
                f"error: --overwrite is false but found the following declared annotation(s): "
                f"{found}")
    annotations.update(sets)
    for key in removes:
        annotations.pop(key, None)
    obj["metadata"]["annotations"] = annotations


def split_flags(args: argparse.Namespace) -> list[str]:
    """Options may follow the positionals (``pod p -n ns k=v``): take them out of the rest."""
    items: list[str] = []
    words = iter(args.items)
    for word in words:
        if word in ("-n", "--namespace"):
            args.namespace = next(words, None)
        elif word.startswith("--namespace="):
            args.namespace = word.split("=", 1)[1]
        elif word == "--overwrite":
            args.overwrite = True
        else:
            items.append(word)
    return items


def cmd_annotate(ctx: KubeContext, args: argparse.Namespace) -> int:
    word, name = split_reference(args.resource, None)
    items = split_flags(args)
    if not name:
        if not items:
            raise KubectlError("error: one or more resources must be specified as <resource> "
                               "<name> or <resource>/<name>")
        name = items.pop(0)
    info = ctx.kind(word)
    sets, removes = parse_changes(items)
    obj = ctx.store.get(info.api_version, info.kind, args.namespace or "default", name)
    apply_changes(obj, sets, removes, args.overwrite)
    ctx.store.replace(obj)
    print(f"{info.kubectl_type}/{name} annotated")
    return 0


def add_parser(commands: Any, namespaced: argparse.ArgumentParser) -> None:
    annotate = commands.add_parser("annotate", parents=[namespaced])
    annotate.add_argument("resource")
    annotate.add_argument("items", nargs=argparse.REMAINDER)
    annotate.add_argument("--overwrite", action="store_true")
    annotate.set_defaults(handler=cmd_annotate)
