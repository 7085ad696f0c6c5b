"""``az keyvault key``: create, import, show, list, delete.

Upstream counterpart: ``az keyvault key`` through the official ``KeyClient`` (api-version
7.6-preview.2, ``verify_challenge_resource=False``, as az pins it). The key bundle az prints:
attribute times as ISO text, the public JWK with binary members as base64url (no padding).
"""

from __future__ import annotations

import argparse
import base64
from pathlib import Path
from typing import Any

from kvcsi.cli.az.ids import parse_tags
from kvcsi.cli.az.keyvault import vault_url
from kvcsi.cli.az.secrets import iso
from kvcsi.cli.session import AzError, Session

KEY_TYPES = ["RSA", "RSA-HSM", "EC", "EC-HSM", "oct", "oct-HSM"]
CURVES = ["P-256", "P-256K", "P-384", "P-521"]
KEY_OPS = ["decrypt", "encrypt", "import", "release", "sign", "unwrapKey", "verify", "wrapKey"]
_JWK_MEMBERS = ("crv", "d", "dp", "dq", "e", "k", "key_ops", "kid", "kty", "n", "p", "q", "qi",
                "t", "x", "y")


def _b64url(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.urlsafe_b64encode(bytes(value)).decode("ascii").rstrip("=")
    return value


def key_attributes(props: Any) -> dict[str, Any]:
    return {
        "created": iso(props.created_on),
        "enabled": props.enabled,
        "expires": iso(props.expires_on),
        "exportable": props.exportable,
        "hsmPlatform": getattr(props, "hsm_platform", None),
        "notBefore": iso(props.not_before),
        "recoverableDays": props.recoverable_days,
        "recoveryLevel": props.recovery_level,
        "updated": iso(props.updated_on),
    }


def key_view(key: Any) -> dict[str, Any]:
    jwk = key.key
    members = {("keyOps" if name == "key_ops" else name): _b64url(getattr(jwk, name, None))
               for name in _JWK_MEMBERS}
    if members.get("kty") is not None:
        members["kty"] = str(getattr(members["kty"], "value", members["kty"]))
    return {
        "attributes": key_attributes(key.properties),
        "key": members,
        "managed": key.properties.managed,
        "releasePolicy": None,
        "tags": key.properties.tags,
    }


def key_item_view(props: Any) -> dict[str, Any]:
    return {"attributes": key_attributes(props), "kid": props.id, "managed": props.managed,
            "name": props.name, "tags": props.tags}


def _client(session: Session, args: argparse.Namespace) -> Any:
    return session.key_client(vault_url(session, args.vault_name))


def key_create(session: Session, args: argparse.Namespace) -> Any:
    kty = args.kty or ("RSA-HSM" if args.protection == "hsm" else "RSA")
    kwargs: dict[str, Any] = {"key_operations": args.ops,
                              "tags": parse_tags(args.tags)}
    if kty.startswith("RSA"):
        kwargs["size"] = args.size or 2048
    elif kty.startswith("EC"):
        kwargs["curve"] = args.curve or "P-256"
    elif args.size:
        kwargs["size"] = args.size
    if args.disabled:
        kwargs["enabled"] = False
    return key_view(_client(session, args).create_key(args.name, kty, **kwargs))


def _jwk_from_pem(pem: bytes, password: str | None) -> Any:
    from azure.keyvault.keys import JsonWebKey
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        private = load_pem_private_key(pem, password.encode() if password else None)
    except (ValueError, TypeError) as error:
        raise AzError("", f"Import failed: {error}") from None

    def raw(number: int) -> bytes:
        return number.to_bytes((number.bit_length() + 7) // 8 or 1, "big")

    if isinstance(private, rsa.RSAPrivateKey):
        numbers = private.private_numbers()
        public = numbers.public_numbers
        return JsonWebKey(kty="RSA", n=raw(public.n), e=raw(public.e), d=raw(numbers.d),
                          p=raw(numbers.p), q=raw(numbers.q), dp=raw(numbers.dmp1),
                          dq=raw(numbers.dmq1), qi=raw(numbers.iqmp))
    if isinstance(private, ec.EllipticCurvePrivateKey):
        numbers = private.private_numbers()
        size = (private.curve.key_size + 7) // 8
        curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
                 "secp256k1": "P-256K"}[private.curve.name]
        return JsonWebKey(kty="EC", crv=curve,
                          x=numbers.public_numbers.x.to_bytes(size, "big"),
                          y=numbers.public_numbers.y.to_bytes(size, "big"),
                          d=numbers.private_value.to_bytes(size, "big"))
    raise AzError("", "Import failed: only RSA and EC private keys can be imported.")


def key_import(session: Session, args: argparse.Namespace) -> Any:
    if args.pem_file:
        try:
            pem = Path(args.pem_file).read_bytes()
        except OSError as error:
            raise AzError("", f"{error.strerror}: '{args.pem_file}'") from None
    elif args.pem_string:
        pem = args.pem_string.encode()
    else:
        raise AzError("", "usage error: --pem-file PATH | --pem-string STRING", exit_code=2)
    jwk = _jwk_from_pem(pem, args.pem_password)
    key = _client(session, args).import_key(args.name, jwk, hardware_protected=(
        args.protection == "hsm"), tags=parse_tags(args.tags))
    return key_view(key)


def key_show(session: Session, args: argparse.Namespace) -> Any:
    return key_view(_client(session, args).get_key(args.name, args.version))


def key_list(session: Session, args: argparse.Namespace) -> Any:
    items = _client(session, args).list_properties_of_keys()
    found = []
    for props in items:
        if args.maxresults is not None and len(found) >= args.maxresults:
            break
        found.append(key_item_view(props))
    return found


def key_delete(session: Session, args: argparse.Namespace) -> Any:
    deleted = _client(session, args).begin_delete_key(args.name).result()
    view = key_view(deleted)
    view.update(deletedDate=iso(deleted.deleted_date), recoveryId=deleted.recovery_id,
                scheduledPurgeDate=iso(deleted.scheduled_purge_date))
    return view


def register(keyvault: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    key = keyvault.add_parser("key", help="keys").add_subparsers(dest="key_verb", required=True)

    def key_parser(verb: str, handler: Any, named: bool = True) -> argparse.ArgumentParser:
        parser = key.add_parser(verb, parents=[common])
        parser.add_argument("--vault-name", required=True)
        if named:
            parser.add_argument("--name", "-n", required=True)
        parser.set_defaults(handler=handler)
        return parser

    create = key_parser("create", key_create)
    create.add_argument("--kty", choices=KEY_TYPES)
    create.add_argument("--size", type=int)
    create.add_argument("--curve", choices=CURVES)
    create.add_argument("--ops", nargs="+", choices=KEY_OPS)
    create.add_argument("--protection", "-p", choices=["software", "hsm"], default="software")
    create.add_argument("--disabled", action="store_true")
    create.add_argument("--tags", nargs="*")
    imported = key_parser("import", key_import)
    imported.add_argument("--pem-file")
    imported.add_argument("--pem-string")
    imported.add_argument("--pem-password")
    imported.add_argument("--protection", "-p", choices=["software", "hsm"], default="software")
    imported.add_argument("--tags", nargs="*")
    show = key_parser("show", key_show)
    show.add_argument("--version")
    listing = key_parser("list", key_list, named=False)
    listing.add_argument("--maxresults", type=int)
    key_parser("delete", key_delete)
