"""``az keyvault certificate``: create (from a policy), import, show, list, download,
get-default-policy.

Upstream counterpart: ``az keyvault certificate`` through the official
``CertificateClient`` (api-version 7.4, ``verify_challenge_resource=False``). Policies are the
REST camelCase JSON ``get-default-policy`` prints and ``--policy`` takes (text or ``@file``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from pathlib import Path
from typing import Any

from kvcsi.cli.az.ids import parse_tags
from kvcsi.cli.az.keyvault import vault_url
from kvcsi.cli.az.secrets import iso
from kvcsi.cli.session import AzError, Session

DEFAULT_POLICY: dict[str, Any] = {
    "issuerParameters": {"certificateTransparency": None, "name": "Self"},
    "keyProperties": {"curve": None, "exportable": True, "keySize": 2048, "keyType": "RSA",
                      "reuseKey": True},
    "lifetimeActions": [{"action": {"actionType": "AutoRenew"},
                         "trigger": {"daysBeforeExpiry": 90}}],
    "secretProperties": {"contentType": "application/x-pkcs12"},
    "x509CertificateProperties": {
        "keyUsage": ["cRLSign", "dataEncipherment", "digitalSignature", "keyEncipherment",
                     "keyAgreement", "keyCertSign"],
        "subject": "CN=CLIGetDefaultPolicy",
        "validityInMonths": 12,
    },
}


def _value(enum_or_text: Any) -> Any:
    return getattr(enum_or_text, "value", enum_or_text)


def policy_view(policy: Any) -> dict[str, Any] | None:
    if policy is None:
        return None
    actions = [{"action": {"actionType": _value(action.action)},
                "trigger": {"daysBeforeExpiry": action.days_before_expiry,
                            "lifetimePercentage": action.lifetime_percentage}}
               for action in policy.lifetime_actions or []]
    return {
        "issuerParameters": {"certificateTransparency": policy.certificate_transparency,
                             "certificateType": policy.certificate_type,
                             "name": policy.issuer_name},
        "keyProperties": {"curve": _value(policy.key_curve_name),
                          "exportable": policy.exportable, "keySize": policy.key_size,
                          "keyType": _value(policy.key_type), "reuseKey": policy.reuse_key},
        "lifetimeActions": actions,
        "secretProperties": {"contentType": _value(policy.content_type)},
        "x509CertificateProperties": {
            "ekus": policy.enhanced_key_usage,
            "keyUsage": [_value(usage) for usage in policy.key_usage or []] or None,
            "subject": policy.subject,
            "subjectAlternativeNames": None,
            "validityInMonths": policy.validity_in_months,
        },
    }


def _policy_from_json(data: dict[str, Any]) -> Any:
    from azure.keyvault.certificates import CertificatePolicy, LifetimeAction

    key = data.get("keyProperties") or {}
    x509 = data.get("x509CertificateProperties") or {}
    names = x509.get("subjectAlternativeNames") or {}
    actions = [LifetimeAction(action["action"]["actionType"],
                              days_before_expiry=action["trigger"].get("daysBeforeExpiry"),
                              lifetime_percentage=action["trigger"].get("lifetimePercentage"))
               for action in data.get("lifetimeActions") or []]
    subject = x509.get("subject")
    return CertificatePolicy(
        issuer_name=(data.get("issuerParameters") or {}).get("name", "Self"),
        subject=subject,
        san_dns_names=names.get("dnsNames"), san_emails=names.get("emails"),
        san_user_principal_names=names.get("upns"),
        exportable=key.get("exportable"), key_type=key.get("keyType"),
        key_size=key.get("keySize"), reuse_key=key.get("reuseKey"),
        key_curve_name=key.get("curve"), enhanced_key_usage=x509.get("ekus"),
        key_usage=x509.get("keyUsage"),
        content_type=(data.get("secretProperties") or {}).get("contentType"),
        validity_in_months=x509.get("validityInMonths"), lifetime_actions=actions or None)


def _read_policy(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    try:
        policy = json.loads(text)
    except ValueError as error:
        raise AzError("", f"argument --policy/-p: invalid JSON: {error}", exit_code=2) from None
    if not isinstance(policy, dict):
        raise AzError("", "argument --policy/-p: a JSON object is required", exit_code=2)
    return policy


def certificate_view(certificate: Any) -> dict[str, Any]:
    props = certificate.properties
    thumbprint = props.x509_thumbprint or b""
    return {
        "attributes": {"created": iso(props.created_on), "enabled": props.enabled,
                       "expires": iso(props.expires_on), "notBefore": iso(props.not_before),
                       "recoverableDays": props.recoverable_days,
                       "recoveryLevel": props.recovery_level, "updated": iso(props.updated_on)},
        "cer": base64.b64encode(certificate.cer or b"").decode("ascii"),
        "contentType": _value(certificate.policy.content_type) if certificate.policy else None,
        "id": certificate.id,
        "kid": certificate.key_id,
        "name": certificate.name,
        "policy": policy_view(certificate.policy),
        "sid": certificate.secret_id,
        "tags": props.tags,
        "x509Thumbprint": base64.urlsafe_b64encode(thumbprint).decode("ascii").rstrip("="),
        "x509ThumbprintHex": thumbprint.hex().upper(),
    }


def _client(session: Session, args: argparse.Namespace) -> Any:
    return session.certificate_client(vault_url(session, args.vault_name))


def certificate_create(session: Session, args: argparse.Namespace) -> Any:
    client = _client(session, args)
    policy = _policy_from_json(_read_policy(args.policy))
    client.begin_create_certificate(args.name, policy, enabled=not args.disabled,
                                    tags=parse_tags(args.tags)).result()
    operation = client.get_certificate_operation(args.name)
    return {
        "cancellationRequested": operation.cancellation_requested,
        "csr": base64.b64encode(operation.csr or b"").decode("ascii"),
        "error": None,
        "id": operation.id,
        "issuerParameters": {"certificateTransparency": operation.certificate_transparency,
                             "certificateType": operation.certificate_type,
                             "name": operation.issuer_name},
        "name": operation.name,
        "requestId": operation.request_id,
        "status": operation.status,
        "statusDetails": operation.status_details,
        "target": operation.target,
    }


def certificate_import(session: Session, args: argparse.Namespace) -> Any:
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        raise AzError("", f"{error.strerror}: '{args.file}'") from None
    kwargs: dict[str, Any] = {"password": args.password, "tags": parse_tags(args.tags)}
    if data.lstrip().startswith(b"-----BEGIN"):
        from azure.keyvault.certificates import CertificateContentType, CertificatePolicy

        kwargs["policy"] = CertificatePolicy(content_type=CertificateContentType.pem)
    certificate = _client(session, args).import_certificate(args.name, data, **kwargs)
    return certificate_view(certificate)


def certificate_show(session: Session, args: argparse.Namespace) -> Any:
    client = _client(session, args)
    if args.version:
        return certificate_view(client.get_certificate_version(args.name, args.version))
    return certificate_view(client.get_certificate(args.name))


def certificate_list(session: Session, args: argparse.Namespace) -> Any:
    found = []
    for props in _client(session, args).list_properties_of_certificates():
        thumbprint = props.x509_thumbprint or b""
        found.append({
            "attributes": {"created": iso(props.created_on), "enabled": props.enabled,
                           "expires": iso(props.expires_on), "notBefore": iso(props.not_before),
                           "recoverableDays": props.recoverable_days,
                           "recoveryLevel": props.recovery_level,
                           "updated": iso(props.updated_on)},
            "id": props.id, "name": props.name, "subject": "", "tags": props.tags,
            "x509Thumbprint": base64.urlsafe_b64encode(thumbprint).decode().rstrip("="),
            "x509ThumbprintHex": thumbprint.hex().upper(),
        })
    return found


def certificate_download(session: Session, args: argparse.Namespace) -> Any:
    target = Path(args.file)
    if target.exists():
        raise AzError("", f"File or directory {args.file} already exists.")
    client = _client(session, args)
    certificate = (client.get_certificate_version(args.name, args.version) if args.version
                   else client.get_certificate(args.name))
    der = bytes(certificate.cer or b"")
    if args.encoding == "PEM":
        body = base64.encodebytes(der).decode("ascii").replace("\n", "")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        data = ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
                + "\n-----END CERTIFICATE-----\n").encode()
    else:
        data = der
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return None


def certificate_default_policy(session: Session, args: argparse.Namespace) -> Any:
    return json.loads(json.dumps(DEFAULT_POLICY))


def register(keyvault: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    certificate = keyvault.add_parser("certificate", help="certificates").add_subparsers(
        dest="certificate_verb", required=True)

    def cert_parser(verb: str, handler: Any, named: bool = True) -> argparse.ArgumentParser:
        parser = certificate.add_parser(verb, parents=[common])
        parser.add_argument("--vault-name", required=True)
        if named:
            parser.add_argument("--name", "-n", required=True)
        parser.set_defaults(handler=handler)
        return parser

    create = cert_parser("create", certificate_create)
    create.add_argument("--policy", "-p", required=True)
    create.add_argument("--disabled", action="store_true")
    create.add_argument("--tags", nargs="*")
    imported = cert_parser("import", certificate_import)
    imported.add_argument("--file", "-f", required=True)
    imported.add_argument("--password")
    imported.add_argument("--tags", nargs="*")
    show = cert_parser("show", certificate_show)
    show.add_argument("--version", "-v")
    cert_parser("list", certificate_list, named=False)
    download = cert_parser("download", certificate_download)
    download.add_argument("--file", "-f", required=True)
    download.add_argument("--encoding", "-e", choices=["PEM", "DER"], default="PEM")
    download.add_argument("--version", "-v")
    certificate.add_parser("get-default-policy", parents=[common]).set_defaults(
        handler=certificate_default_policy)
