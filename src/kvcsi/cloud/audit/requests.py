"""Which Key Vault operation a data-plane request is, from its method and path alone.

Upstream counterpart: the ``operationName`` / ``requestUri`` fields of Key Vault's
``AuditEvent`` diagnostic logs. The names are those of :mod:`kvcsi.cloud.arm.data_actions`
(``getSecret``, ``listKeys``, ...), so ``kvcsi audit --operation`` and ``kvcsi explain
--action`` speak the same language. Only the path is read: never a body or a query value.
"""

from __future__ import annotations

from dataclasses import dataclass

from kvcsi.cloud.arm.data_actions import CERTIFICATE, KEY, SECRET

UNKNOWN = "unknown"


@dataclass(frozen=True)
class RequestedOperation:
    """The operation of one request and the object it names (empty for vault-wide ones)."""

    name: str
    object_type: str = ""
    object_name: str = ""
    object_version: str = ""


_COLLECTIONS = {"secrets": SECRET, "keys": KEY, "certificates": CERTIFICATE}
_DELETED = {"deletedsecrets": SECRET, "deletedkeys": KEY, "deletedcertificates": CERTIFICATE}
_NOUN = {SECRET: "Secret", KEY: "Key", CERTIFICATE: "Certificate"}
_KEY_ACTIONS = {"encrypt": "encrypt", "decrypt": "decrypt", "sign": "sign",
                "verify": "verify", "wrapkey": "wrapKey", "unwrapkey": "unwrapKey",
                "release": "releaseKey"}


def _collection(method: str, object_type: str, parts: list[str]) -> RequestedOperation:
    noun = _NOUN[object_type]
    if not parts:
        return RequestedOperation(f"list{noun}s" if method == "GET" else UNKNOWN, object_type)
    name, rest = parts[0], parts[1:]
    if name == "restore" and not rest and method == "POST":
        return RequestedOperation(f"restore{noun}", object_type)
    if object_type == CERTIFICATE and name in ("issuers", "contacts"):
        return _certificate_settings(method, name, rest)
    found = _named(method, object_type, noun, name, rest)
    version = rest[0] if len(rest) in (1, 2) and rest[0] not in _SUB_RESOURCES else ""
    return RequestedOperation(found, object_type, name,
                              version if found != UNKNOWN else "")


_SUB_RESOURCES = frozenset({"versions", "create", "import", "backup", "rotate",
                            "rotationpolicy", "policy", "pending", "release"})


def _named(method: str, object_type: str, noun: str, name: str, rest: list[str]) -> str:
    if not rest:
        return {"GET": f"get{noun}", "DELETE": f"delete{noun}", "PATCH": f"update{noun}",
                "PUT": "setSecret" if object_type == SECRET else f"import{noun}"
                }.get(method, UNKNOWN)
    head = rest[0].lower()
    if len(rest) == 1 and head == "versions" and method == "GET":
        return f"list{noun}Versions"
    if len(rest) == 1 and head in ("create", "import") and method == "POST":
        return f"{head}{noun}"
    if len(rest) == 1 and head == "backup" and method == "POST":
        return f"backup{noun}"
    if object_type == KEY and len(rest) == 1 and head == "rotate" and method == "POST":
        return "rotateKey"
    if object_type == KEY and len(rest) == 1 and head == "rotationpolicy":
        return {"GET": "getKeyRotationPolicy", "PUT": "setKeyRotationPolicy"}.get(method,
                                                                                  UNKNOWN)
    if object_type == CERTIFICATE and len(rest) == 1 and head == "policy":
        return {"GET": "getCertificatePolicy", "PATCH": "updateCertificatePolicy"}.get(
            method, UNKNOWN)
    if object_type == CERTIFICATE and len(rest) == 1 and head == "pending":
        return "getCertificateOperation"
    if object_type == KEY and method == "POST" and rest[-1].lower() in _KEY_ACTIONS:
        return _KEY_ACTIONS[rest[-1].lower()]
    if len(rest) == 1:
        return {"GET": f"get{noun}", "PATCH": f"update{noun}"}.get(method, UNKNOWN)
    return UNKNOWN


def _certificate_settings(method: str, which: str, rest: list[str]) -> RequestedOperation:
    if which == "contacts":
        return RequestedOperation("setCertificateContacts", CERTIFICATE)
    if not rest:
        return RequestedOperation("listCertificateIssuers", CERTIFICATE)
    name = {"GET": "getCertificateIssuer", "DELETE": "deleteCertificateIssuer"}.get(
        method, "setCertificateIssuer")
    return RequestedOperation(name, CERTIFICATE, rest[0])


def _deleted(method: str, object_type: str, parts: list[str]) -> RequestedOperation:
    noun = _NOUN[object_type]
    if not parts:
        return RequestedOperation(f"listDeleted{noun}s", object_type)
    name = parts[0]
    if len(parts) == 2 and parts[1].lower() == "recover" and method == "POST":
        return RequestedOperation(f"recover{noun}", object_type, name)
    if len(parts) == 1 and method == "DELETE":
        return RequestedOperation(f"purge{noun}", object_type, name)
    if len(parts) == 1 and method == "GET":
        return RequestedOperation(f"getDeleted{noun}", object_type, name)
    return RequestedOperation(UNKNOWN, object_type, name)


def classify(method: str, path: str) -> RequestedOperation:
    """The operation of ``method path`` on a vault host (``/secrets/db-password``)."""
    parts = [part for part in path.split("/") if part]
    method = method.upper()
    if not parts:
        return RequestedOperation(UNKNOWN)
    head = parts[0].lower()
    if head in _COLLECTIONS:
        return _collection(method, _COLLECTIONS[head], parts[1:])
    if head in _DELETED:
        return _deleted(method, _DELETED[head], parts[1:])
    return RequestedOperation(UNKNOWN)
