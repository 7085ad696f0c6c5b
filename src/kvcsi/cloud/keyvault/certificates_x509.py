"""X.509 from a policy and a policy from X.509: what Key Vault's ``Self`` issuer does.

Counterpart of Key Vault's certificate issuance: a key made as ``key_props`` asks, a
self-signed certificate carrying ``x509_props`` (subject, SANs, EKUs, key usage, validity in
months), the CSR of a pending operation, and the policy Key Vault derives from an imported
certificate (issuer ``Unknown``).
"""

from __future__ import annotations

import calendar
import datetime
import ipaddress
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from kvcsi.cloud.keyvault.certificates_formats import PrivateKey
from kvcsi.cloud.keyvault.certificates_policy import (
    KEY_USAGES,
    UNKNOWN_ISSUER,
    KeySpec,
    parse_policy,
)
from kvcsi.cloud.keyvault.errors import BadParameter

CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
    "P-256K": ec.SECP256K1,
}
CURVE_NAMES = {cls.name: name for name, cls in CURVES.items()}
NAME_ATTRIBUTES: dict[str, ObjectIdentifier] = {
    "CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME, "S": NameOID.STATE_OR_PROVINCE_NAME,
    "C": NameOID.COUNTRY_NAME, "E": NameOID.EMAIL_ADDRESS,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS, "DC": NameOID.DOMAIN_COMPONENT,
    "STREET": NameOID.STREET_ADDRESS, "SERIALNUMBER": NameOID.SERIAL_NUMBER,
}
_RDN_SPLIT = re.compile(r"\s*[,;]\s*(?=[A-Za-z][A-Za-z0-9.]*\s*=)")
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
# x509 KeyUsage constructor argument -> Key Vault's key usage name
_USAGE_ARGUMENTS = {
    "digital_signature": "digitalSignature", "content_commitment": "nonRepudiation",
    "key_encipherment": "keyEncipherment", "data_encipherment": "dataEncipherment",
    "key_agreement": "keyAgreement", "key_cert_sign": "keyCertSign",
    "crl_sign": "cRLSign", "encipher_only": "encipherOnly", "decipher_only": "decipherOnly",
}


def generate_key(spec: KeySpec) -> PrivateKey:
    if spec.is_ec:
        return ec.generate_private_key(CURVES[spec.curve or "P-256"]())
    return rsa.generate_private_key(public_exponent=65537, key_size=spec.key_size or 2048)


def parse_subject(subject: str) -> x509.Name:
    """``CN=a, O=b`` (Key Vault's subject syntax) as an X.509 name."""
    attributes = []
    for part in _RDN_SPLIT.split(subject.strip()):
        label, sep, value = part.partition("=")
        oid = NAME_ATTRIBUTES.get(label.strip().upper())
        if not sep or oid is None or not value.strip():
            raise BadParameter(f"The subject name '{subject}' is invalid.")
        attributes.append(x509.NameAttribute(oid, value.strip().strip('"')))
    return x509.Name(attributes)


def add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _general_names(sans: dict[str, list[str]]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    names += [x509.DNSName(n) for n in sans.get("dns_names", [])]
    names += [x509.RFC822Name(n) for n in sans.get("emails", [])]
    names += [x509.UniformResourceIdentifier(n) for n in sans.get("uris", [])]
    try:
        names += [x509.IPAddress(ipaddress.ip_address(n)) for n in sans.get("ipAddresses", [])]
    except ValueError as error:
        raise BadParameter(f"Property ipAddresses has invalid value: {error}") from None
    names += [x509.OtherName(UPN_OID, _utf8_string_der(n)) for n in sans.get("upns", [])]
    return names


def _utf8_string_der(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) >= 128:
        raise BadParameter("Property upns has invalid value")
    return bytes([0x0C, len(data)]) + data


def _key_usage(usages: list[str]) -> x509.KeyUsage:
    flags = {argument: name in usages for argument, name in _USAGE_ARGUMENTS.items()}
    if not flags["key_agreement"]:
        flags["encipher_only"] = flags["decipher_only"] = False
    return x509.KeyUsage(**flags)


def _extensions(x509_props: dict[str, Any]) -> list[tuple[x509.ExtensionType, bool]]:
    extensions: list[tuple[x509.ExtensionType, bool]] = []
    sans = _general_names(x509_props.get("sans", {}))
    if sans:
        extensions.append((x509.SubjectAlternativeName(sans), False))
    if x509_props.get("key_usage"):
        extensions.append((_key_usage(x509_props["key_usage"]), True))
    if x509_props.get("ekus"):
        extensions.append((x509.ExtendedKeyUsage(
            [ObjectIdentifier(oid) for oid in x509_props["ekus"]]), False))
    extensions.append((x509.BasicConstraints(ca=False, path_length=None), True))
    return extensions


def _subject(x509_props: dict[str, Any]) -> x509.Name:
    return parse_subject(x509_props["subject"]) if x509_props.get("subject") else x509.Name([])


def self_signed(policy: dict[str, Any], key: PrivateKey,
                now: datetime.datetime | None = None) -> x509.Certificate:
    """A certificate signed by its own key, as the ``Self`` issuer makes it."""
    props = policy["x509_props"]
    not_before = (now or datetime.datetime.now(datetime.UTC)).replace(microsecond=0)
    subject = _subject(props)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(add_months(not_before, props["validity_months"]))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              False))
    for extension, critical in _extensions(props):
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256())


def csr_der(policy: dict[str, Any], key: PrivateKey) -> bytes:
    """The certificate signing request of a pending operation (DER)."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        _subject(policy["x509_props"]))
    for extension, critical in _extensions(policy["x509_props"]):
        builder = builder.add_extension(extension, critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _months_between(start: datetime.datetime, end: datetime.datetime) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(months, 1)


def _sans_of(certificate: x509.Certificate) -> dict[str, list[str]]:
    try:
        names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {}
    sans = {
        "dns_names": names.get_values_for_type(x509.DNSName),
        "emails": names.get_values_for_type(x509.RFC822Name),
        "uris": names.get_values_for_type(x509.UniformResourceIdentifier),
        "ipAddresses": [str(ip) for ip in names.get_values_for_type(x509.IPAddress)],
    }
    return {kind: values for kind, values in sans.items() if values}


def _extension_value(certificate: x509.Certificate, kind: type) -> Any:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _key_props_of(certificate: x509.Certificate) -> dict[str, Any]:
    public_key = certificate.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"kty": "EC", "crv": CURVE_NAMES.get(public_key.curve.name, "P-256"),
                "key_size": public_key.curve.key_size}
    if isinstance(public_key, rsa.RSAPublicKey):
        return {"kty": "RSA", "key_size": public_key.key_size}
    raise BadParameter("Only certificates with RSA or EC keys are supported.")


def imported_policy(certificate: x509.Certificate, given: Any,
                    content_type: str) -> dict[str, Any]:
    """The policy of an import: the given one, completed from the certificate itself."""
    given = given if isinstance(given, dict) else {}
    key_props = {**_key_props_of(certificate), "exportable": True, "reuse_key": False,
                 **(given.get("key_props") or {})}
    usage = _extension_value(certificate, x509.KeyUsage)
    usages = [name for argument, name in _USAGE_ARGUMENTS.items()
              if usage is not None and _usage_flag(usage, argument)]
    ekus = _extension_value(certificate, x509.ExtendedKeyUsage)
    x509_props: dict[str, Any] = {
        "subject": certificate.subject.rfc4514_string() or None,
        "sans": _sans_of(certificate),
        "ekus": [oid.dotted_string for oid in ekus] if ekus is not None else [],
        "key_usage": [u for u in usages if u in KEY_USAGES],
        "validity_months": _months_between(certificate.not_valid_before_utc,
                                           certificate.not_valid_after_utc),
        **(given.get("x509_props") or {}),
    }
    raw = {
        "key_props": key_props,
        "secret_props": {"contentType": content_type},
        "x509_props": {k: v for k, v in x509_props.items() if v is not None},
        "lifetime_actions": given.get("lifetime_actions",
                                      [{"trigger": {"lifetime_percentage": 80},
                                        "action": {"action_type": "EmailContacts"}}]),
        "issuer": {"name": UNKNOWN_ISSUER, **(given.get("issuer") or {})},
    }
    return parse_policy(raw, require_subject=False)


def _usage_flag(usage: x509.KeyUsage, argument: str) -> bool:
    try:
        return bool(getattr(usage, argument))
    except ValueError:  # encipher_only / decipher_only without key_agreement
        return False
