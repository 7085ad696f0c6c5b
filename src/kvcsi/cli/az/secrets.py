"""``az keyvault secret``: set (``--value`` or ``--file``/``--encoding``), show, list,
list-versions, set-attributes, delete, recover, purge, download.

Upstream counterpart: ``az keyvault secret``; every call goes to the vault host over HTTPS
with the signed-in account's token through the official ``SecretClient`` (api-version 7.4,
``verify_challenge_resource=False``, as az). Output is the secret bundle az prints:
attribute times as ISO 8601 text, ``value`` only where az shows it. ``--file`` stores the
file's bytes in the chosen encoding and tags the secret ``file-encoding``, which
``download`` reads back to restore the bytes.
"""

from __future__ import annotations

import argparse
import base64
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kvcsi.cli.az.ids import parse_tags
from kvcsi.cli.az.keyvault import parse_bool, vault_url
from kvcsi.cli.session import AzError, Session

ENCODINGS = ["utf-8", "ascii", "base64", "hex", "utf-16le", "utf-16be"]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def attributes(props: Any) -> dict[str, Any]:
    return {
        "created": iso(props.created_on),
        "enabled": props.enabled,
        "expires": iso(props.expires_on),
        "notBefore": iso(props.not_before),
        "recoverableDays": props.recoverable_days,
        "recoveryLevel": props.recovery_level,
        "updated": iso(props.updated_on),
    }


def properties_view(props: Any) -> dict[str, Any]:
    """A secret without its value (list, list-versions, set-attributes, recover)."""
    return {
        "attributes": attributes(props),
        "contentType": props.content_type,
        "id": props.id,
        "managed": props.managed,
        "name": props.name,
        "tags": props.tags,
    }


def secret_bundle(secret: Any) -> dict[str, Any]:
    """The JSON az prints for ``set`` and ``show``: the bundle with its value."""
    view = properties_view(secret.properties)
    view["kid"] = secret.properties.key_id
    view["value"] = secret.value
    return view


def deleted_view(deleted: Any) -> dict[str, Any]:
    view = properties_view(deleted.properties)
    view.update(deletedDate=iso(deleted.deleted_date), kid=deleted.properties.key_id,
                recoveryId=deleted.recovery_id,
                scheduledPurgeDate=iso(deleted.scheduled_purge_date), value=None)
    return view


def _client(session: Session, args: argparse.Namespace) -> Any:
    return session.secret_client(vault_url(session, args.vault_name))


def _encode(data: bytes, encoding: str) -> str:
    if encoding == "base64":
        return base64.b64encode(data).decode("ascii")
    if encoding == "hex":
        return data.hex()
    return data.decode(encoding)


def _decode(value: str, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.b64decode(value)
    if encoding == "hex":
        return bytes.fromhex(value)
    return value.encode(encoding)


def _value_and_tags(args: argparse.Namespace) -> tuple[str, dict[str, str] | None]:
    tags = parse_tags(args.tags)
    if args.value is not None and args.file is not None:
        raise AzError("", "usage error: --value VALUE | --file PATH", exit_code=2)
    if args.value is not None:
        return str(args.value), tags
    if args.file is None:
        raise AzError("", "usage error: --value VALUE | --file PATH", exit_code=2)
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        raise AzError("", f"{error.strerror}: '{args.file}'") from None
    return _encode(data, args.encoding), {**(tags or {}), "file-encoding": args.encoding}


def _times(args: argparse.Namespace) -> dict[str, datetime]:
    """``--expires`` / ``--not-before`` (ISO 8601, UTC when no offset is given)."""
    found = {}
    for flag, keyword in (("expires", "expires_on"), ("not_before", "not_before")):
        text = getattr(args, flag)
        if text is None:
            continue
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise AzError("", f"argument --{flag.replace('_', '-')}: invalid datetime "
                              f"value: '{text}'", exit_code=2) from None
        found[keyword] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return found


def secret_set(session: Session, args: argparse.Namespace) -> Any:
    value, tags = _value_and_tags(args)
    kwargs: dict[str, Any] = {"content_type": args.content_type, "tags": tags}
    if args.disabled is not None:
        kwargs["enabled"] = not parse_bool(args.disabled, "--disabled")
    kwargs.update(_times(args))
    secret = _client(session, args).set_secret(args.name, value, **kwargs)
    return secret_bundle(secret)


def secret_show(session: Session, args: argparse.Namespace) -> Any:
    return secret_bundle(_client(session, args).get_secret(args.name, args.version))


def secret_list(session: Session, args: argparse.Namespace) -> Any:
    items = _client(session, args).list_properties_of_secrets()
    return [properties_view(props) for props in _limited(items, args.maxresults)]


def secret_list_versions(session: Session, args: argparse.Namespace) -> Any:
    items = _client(session, args).list_properties_of_secret_versions(args.name)
    return [properties_view(props) for props in _limited(items, args.maxresults)]


def _limited(items: Any, limit: int | None) -> list[Any]:
    found = []
    for item in items:
        if limit is not None and len(found) >= limit:
            break
        found.append(item)
    return found


def secret_set_attributes(session: Session, args: argparse.Namespace) -> Any:
    kwargs: dict[str, Any] = {}
    if args.enabled is not None:
        kwargs["enabled"] = parse_bool(args.enabled, "--enabled")
    if args.content_type is not None:
        kwargs["content_type"] = args.content_type
    if args.tags is not None:
        kwargs["tags"] = parse_tags(args.tags)
    kwargs.update(_times(args))
    props = _client(session, args).update_secret_properties(args.name, args.version, **kwargs)
    return properties_view(props)


def secret_delete(session: Session, args: argparse.Namespace) -> Any:
    return deleted_view(_client(session, args).begin_delete_secret(args.name).result())


def secret_recover(session: Session, args: argparse.Namespace) -> Any:
    return properties_view(_client(session, args).begin_recover_deleted_secret(
        args.name).result())


def secret_purge(session: Session, args: argparse.Namespace) -> Any:
    _client(session, args).purge_deleted_secret(args.name)
    return None


def secret_list_deleted(session: Session, args: argparse.Namespace) -> Any:
    return [deleted_view(item) for item in _client(session, args).list_deleted_secrets()]


def secret_download(session: Session, args: argparse.Namespace) -> Any:
    target = Path(args.file)
    if target.exists():
        raise AzError("", f"File or directory {args.file} already exists.")
    secret = _client(session, args).get_secret(args.name, args.version)
    encoding = args.encoding or (secret.properties.tags or {}).get("file-encoding", "utf-8")
    data = _decode(secret.value or "", encoding)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return None


def register(keyvault: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    secret = keyvault.add_parser("secret", help="secrets").add_subparsers(
        dest="secret_verb", required=True)

    def secret_parser(verb: str, handler: Any, named: bool = True) -> argparse.ArgumentParser:
        parser = secret.add_parser(verb, parents=[common])
        parser.add_argument("--vault-name", required=True)
        if named:
            parser.add_argument("--name", "-n", required=True)
        parser.set_defaults(handler=handler)
        return parser

    set_parser = secret_parser("set", secret_set)
    set_parser.add_argument("--value")
    set_parser.add_argument("--file", "-f")
    set_parser.add_argument("--encoding", "-e", default="utf-8", choices=ENCODINGS)
    set_parser.add_argument("--content-type")
    set_parser.add_argument("--disabled")
    set_parser.add_argument("--expires")
    set_parser.add_argument("--not-before")
    set_parser.add_argument("--tags", nargs="*")
    show = secret_parser("show", secret_show)
    show.add_argument("--version")
    for verb, handler in (("list", secret_list), ("list-versions", secret_list_versions)):
        parser = secret_parser(verb, handler, named=verb != "list")
        parser.add_argument("--maxresults", type=int)
    secret_parser("list-deleted", secret_list_deleted, named=False)
    attrs = secret_parser("set-attributes", secret_set_attributes)
    attrs.add_argument("--version")
    attrs.add_argument("--enabled")
    attrs.add_argument("--content-type")
    attrs.add_argument("--expires")
    attrs.add_argument("--not-before")
    attrs.add_argument("--tags", nargs="*")
    secret_parser("delete", secret_delete)
    secret_parser("recover", secret_recover)
    secret_parser("purge", secret_purge)
    download = secret_parser("download", secret_download)
    download.add_argument("--file", "-f", required=True)
    download.add_argument("--encoding", "-e", choices=ENCODINGS)
    download.add_argument("--version")
