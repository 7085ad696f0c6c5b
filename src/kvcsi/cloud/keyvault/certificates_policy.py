"""Certificate policies: validation, Key Vault's defaults, updates and the wire shape.

Counterpart of Key Vault's ``CertificatePolicy`` (wire names ``key_props``, ``secret_props``,
``x509_props``, ``lifetime_actions``, ``issuer``, ``attributes``). A policy is kept as its
wire JSON without ``id`` and ``attributes``; :func:`policy_json` adds those when answering.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kvcsi.cloud.keyvault.certificates_formats import CONTENT_TYPES, PKCS12
from kvcsi.cloud.keyvault.errors import BadParameter

RSA_KEY_TYPES = ("RSA", "RSA-HSM")
EC_KEY_TYPES = ("EC", "EC-HSM")
RSA_KEY_SIZES = (2048, 3072, 4096)
EC_CURVES = ("P-256", "P-384", "P-521", "P-256K")
DEFAULT_EC_CURVE = "P-256"
DEFAULT_RSA_KEY_SIZE = 2048
DEFAULT_VALIDITY_MONTHS = 12
SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
KEY_USAGES = ("digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
              "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly")
SAN_KINDS = ("emails", "dns_names", "upns", "uris", "ipAddresses")
SELF_ISSUER = "Self"
UNKNOWN_ISSUER = "Unknown"
DEFAULT_LIFETIME_ACTIONS = [{"trigger": {"lifetime_percentage": 80},
                             "action": {"action_type": "AutoRenew"}}]


@dataclass(frozen=True)
class KeySpec:
    """The key a policy asks for."""

    kty: str
    key_size: int | None
    curve: str | None
    exportable: bool
    reuse_key: bool

    @property
    def is_ec(self) -> bool:
        return self.kty in EC_KEY_TYPES


def _dict(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadParameter(f"Property {name} has invalid value")
    return value


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadParameter(f"Property {name} has invalid value")
    return list(value)


def _key_props(raw: dict[str, Any]) -> dict[str, Any]:
    kty = raw.get("kty", "RSA")
    if kty not in RSA_KEY_TYPES + EC_KEY_TYPES:
        raise BadParameter(f"Property kty has invalid value: {kty}. Supported key types are "
                           "RSA, RSA-HSM, EC and EC-HSM.")
    props: dict[str, Any] = {"exportable": raw.get("exportable", True), "kty": kty}
    if kty in RSA_KEY_TYPES:
        size = raw.get("key_size", DEFAULT_RSA_KEY_SIZE)
        if size not in RSA_KEY_SIZES:
            raise BadParameter(f"Property key_size has invalid value: {size}. Supported RSA "
                               "key sizes are 2048, 3072 and 4096.")
        props["key_size"] = size
    else:
        curve = raw.get("crv", DEFAULT_EC_CURVE)
        if curve not in EC_CURVES:
            raise BadParameter(f"Property crv has invalid value: {curve}. Supported curves "
                               "are P-256, P-384, P-521 and P-256K.")
        props["crv"] = curve
        if "key_size" in raw:
            props["key_size"] = raw["key_size"]
    props["reuse_key"] = raw.get("reuse_key", False)
    for flag in ("exportable", "reuse_key"):
        if not isinstance(props[flag], bool):
            raise BadParameter(f"Property {flag} has invalid value")
    return props


def _secret_props(raw: dict[str, Any]) -> dict[str, Any]:
    content_type = raw.get("contentType", PKCS12)
    if content_type not in CONTENT_TYPES:
        raise BadParameter(f"Property contentType has invalid value: {content_type}. "
                           f"Supported values: {', '.join(CONTENT_TYPES)}.")
    return {"contentType": content_type}


def _x509_props(raw: dict[str, Any], *, require_subject: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    subject = raw.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise BadParameter("Property subject has invalid value")
    sans_raw = _dict(raw.get("sans"), "sans")
    sans = {kind: _strings(sans_raw[kind], kind) for kind in SAN_KINDS
            if sans_raw.get(kind)}
    if require_subject and not subject and not sans:
        raise BadParameter("Either subject or at least one subject alternative name is "
                           "required in the certificate policy.")
    if subject:
        props["subject"] = subject
    if sans:
        props["sans"] = sans
    props["ekus"] = _strings(raw.get("ekus", [SERVER_AUTH, CLIENT_AUTH]), "ekus")
    usages = _strings(raw.get("key_usage", ["digitalSignature", "keyEncipherment"]),
                      "key_usage")
    unknown = [u for u in usages if u not in KEY_USAGES]
    if unknown:
        raise BadParameter(f"Property key_usage has invalid value: {unknown[0]}")
    props["key_usage"] = usages
    months = raw.get("validity_months", DEFAULT_VALIDITY_MONTHS)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 1200:
        raise BadParameter("Property validity_months has invalid value")
    props["validity_months"] = months
    props["basic_constraints"] = {"ca": False}
    return props


def _issuer(raw: dict[str, Any]) -> dict[str, Any]:
    issuer = {"name": raw.get("name", SELF_ISSUER)}
    for name in ("cty", "cert_transparency"):
        if name in raw:
            issuer[name] = raw[name]
    return issuer


def parse_policy(body: Any, *, require_subject: bool = True) -> dict[str, Any]:
    """A complete policy (Key Vault's defaults filled in) from a request's ``policy``."""
    raw = _dict(body, "policy")
    actions = raw.get("lifetime_actions", DEFAULT_LIFETIME_ACTIONS)
    if not isinstance(actions, list):
        raise BadParameter("Property lifetime_actions has invalid value")
    return {
        "key_props": _key_props(_dict(raw.get("key_props"), "key_props")),
        "secret_props": _secret_props(_dict(raw.get("secret_props"), "secret_props")),
        "x509_props": _x509_props(_dict(raw.get("x509_props"), "x509_props"),
                                  require_subject=require_subject),
        "lifetime_actions": copy.deepcopy(actions),
        "issuer": _issuer(_dict(raw.get("issuer"), "issuer")),
    }


def update_policy(current: dict[str, Any], patch: Any) -> dict[str, Any]:
    """``current`` with the sections of ``patch`` merged in (PATCH .../policy)."""
    patch = _dict(patch, "policy")
    merged = copy.deepcopy(current)
    for section in ("key_props", "secret_props", "x509_props", "issuer"):
        if section in patch:
            merged[section] = {**merged.get(section, {}), **_dict(patch[section], section)}
    if "lifetime_actions" in patch:
        merged["lifetime_actions"] = patch["lifetime_actions"]
    return parse_policy(merged, require_subject=False)


def key_spec(policy: dict[str, Any]) -> KeySpec:
    props = policy["key_props"]
    return KeySpec(kty=props["kty"], key_size=props.get("key_size"), curve=props.get("crv"),
                   exportable=props["exportable"], reuse_key=props["reuse_key"])


def content_type(policy: dict[str, Any]) -> str:
    return str(policy["secret_props"]["contentType"])


def issuer_name(policy: dict[str, Any]) -> str:
    return str(policy["issuer"]["name"])


def policy_json(policy: dict[str, Any], policy_id: str, created: int, updated: int,
                enabled: bool = True) -> dict[str, Any]:
    """The wire shape of a stored policy."""
    body = {"id": policy_id}
    body.update(copy.deepcopy(policy))
    body["attributes"] = {"enabled": enabled, "created": created, "updated": updated}
    return body
