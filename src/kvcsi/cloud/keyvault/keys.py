"""Keys of the local Key Vault: creation, import, validation and storage (no HTTP here).

Counterpart of Key Vault's key objects (software-protected; ``-HSM`` types are accepted
and echoed). RSA 2048/3072/4096 and EC P-256/P-384/P-521/P-256K. Storage, versions and soft
delete come from :class:`~kvcsi.cloud.keyvault.objects.VersionedObjects` (kind ``kv-key``);
a version document is ``{"vault", "name", "version", "kty", "key_ops", "public" (public JWK
members), "private" (Fernet token of the PKCS#8 PEM: private material is encrypted at
rest), "enabled", "created", "updated", "seq", "nbf"?, "exp"?, "exportable"?, "tags"?,
"managed"?}``. Certificates keep their backing key here through
:meth:`KeyRepository.store_managed_version`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kvcsi.cloud.keyvault.cipher import SecretCipher
from kvcsi.cloud.keyvault.errors import (
    BadParameter,
    DeletedKeyNotFound,
    KeyDisabled,
    KeyNotFound,
    OperationNotAllowed,
)
from kvcsi.cloud.keyvault.jwk import CURVES, PrivateKey, private_key_from_jwk, public_jwk
from kvcsi.cloud.keyvault.objects import Document, ObjectType, VersionedObjects
from kvcsi.cloud.keyvault.secrets import parse_attributes, parse_tags
from kvcsi.cloud.store import CloudStore

KIND = "kv-key"
KEYS = ObjectType(KIND, "key", KeyNotFound, DeletedKeyNotFound)
RSA_TYPES = ("RSA", "RSA-HSM")
EC_TYPES = ("EC", "EC-HSM")
RSA_KEY_SIZES = (2048, 3072, 4096)
RSA_OPERATIONS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
EC_OPERATIONS = ["sign", "verify"]
KNOWN_OPERATIONS = set(RSA_OPERATIONS) | {"import", "export"}
LOADED_KEYS_CACHE = 256


def _key_ops(body: dict[str, Any], kty: str) -> list[str]:
    ops = body.get("key_ops")
    if ops is None:
        return list(RSA_OPERATIONS if kty in RSA_TYPES else EC_OPERATIONS)
    if not isinstance(ops, list) or not all(isinstance(op, str) and op in KNOWN_OPERATIONS
                                            for op in ops):
        raise BadParameter("Property key_ops has invalid value")
    return list(ops)


def _key_attributes(body: dict[str, Any]) -> dict[str, Any]:
    found = parse_attributes(body)
    exportable = (body.get("attributes") or {}).get("exportable")
    if exportable is not None:
        if not isinstance(exportable, bool):
            raise BadParameter("Property exportable has invalid value")
        found["exportable"] = exportable
    return found


def generate_private_key(kty: str, key_size: Any, public_exponent: Any,
                         crv: Any) -> PrivateKey:
    if kty in RSA_TYPES:
        size = 2048 if key_size is None else key_size
        if size not in RSA_KEY_SIZES:
            raise BadParameter(f"Invalid key size: {size}. RSA keys must be 2048, 3072 or "
                               "4096 bits.")
        exponent = 65537 if public_exponent is None else public_exponent
        if exponent not in (3, 65537):
            raise BadParameter(f"Invalid public exponent: {exponent}.")
        return rsa.generate_private_key(public_exponent=exponent, key_size=size)
    if kty in EC_TYPES:
        curve = CURVES.get(crv or "P-256")
        if curve is None:
            raise BadParameter(f"Invalid curve name: {crv}.")
        return ec.generate_private_key(curve())
    raise BadParameter(f"The key type '{kty}' is not supported in a vault (oct keys need a "
                       "Managed HSM)." if str(kty).startswith("oct")
                       else f"Invalid key type: {kty}.")


@dataclass(frozen=True)
class NewKey:
    """A validated create or import request: the key and the fields of its first version."""

    private_key: PrivateKey
    kty: str
    key_ops: list[str]
    attributes: dict[str, Any]
    tags: dict[str, str] | None

    @classmethod
    def create(cls, body: dict[str, Any]) -> NewKey:
        kty = body.get("kty")
        if not isinstance(kty, str):
            raise BadParameter("Property kty is required")
        key = generate_private_key(kty, body.get("key_size"), body.get("public_exponent"),
                                   body.get("crv"))
        return cls(key, kty, _key_ops(body, kty), _key_attributes(body), parse_tags(body))

    @classmethod
    def import_(cls, body: dict[str, Any]) -> NewKey:
        jwk = body.get("key")
        if not isinstance(jwk, dict):
            raise BadParameter("Property key is required")
        key = private_key_from_jwk(jwk)
        kty = str(jwk["kty"])
        if body.get("Hsm") is True and not kty.endswith("-HSM"):
            kty += "-HSM"
        return cls(key, kty, _key_ops(jwk, kty), _key_attributes(body), parse_tags(body))


class KeyRepository:
    """Key versions of every vault in one CloudStore."""

    def __init__(self, store: CloudStore, cipher: SecretCipher) -> None:
        self.store = store
        self.cipher = cipher
        self.objects = VersionedObjects(store, KEYS)
        self._loaded: OrderedDict[str, PrivateKey] = OrderedDict()

    def _fields(self, new: NewKey) -> Document:
        pem = new.private_key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
        fields: Document = {"kty": new.kty, "key_ops": new.key_ops,
                            "public": public_jwk(new.private_key),
                            "private": self.cipher.encrypt(pem.decode("ascii")),
                            "enabled": True}
        fields.update({k: v for k, v in new.attributes.items() if v is not None})
        if new.tags is not None:
            fields["tags"] = new.tags
        return fields

    def add(self, vault: str, name: str, new: NewKey) -> Document:
        return self.objects.add_version(vault, name, self._fields(new))

    def store_managed_version(self, vault: str, name: str, version: str,
                              private_key: PrivateKey, *, key_ops: list[str] | None = None,
                              enabled: bool = True, not_before: int | None = None,
                              expires: int | None = None, exportable: bool = True,
                              tags: dict[str, str] | None = None) -> Document:
        """The backing key of a certificate version (``managed: true``, same version)."""
        kty = "RSA" if isinstance(private_key, rsa.RSAPrivateKey) else "EC"
        attributes = {"enabled": enabled, "nbf": not_before, "exp": expires,
                      "exportable": exportable}
        fields = self._fields(NewKey(private_key, kty, key_ops or _key_ops({}, kty),
                                     attributes, tags))
        fields["managed"] = True
        return self.objects.add_version(vault, name, fields, version=version)

    def get(self, vault: str, name: str, version: str | None = None) -> Document:
        return self.objects.get(vault, name, version)

    def update(self, vault: str, name: str, version: str | None,
               body: dict[str, Any]) -> Document:
        changes = _key_attributes(body)
        if "tags" in body:
            changes["tags"] = parse_tags(body)
        if "key_ops" in body:
            changes["key_ops"] = _key_ops(body, "RSA")

        def change(doc: Document) -> Document:
            for field, value in changes.items():
                if value is None:
                    doc.pop(field, None)
                else:
                    doc[field] = value
            return doc
        return self.objects.update_version(vault, name, version, change)

    def usable(self, vault: str, name: str, version: str, operation: str) -> Document:
        """A version that may run ``operation``: enabled and listing it in ``key_ops``."""
        doc = self.objects.get(vault, name, version)
        if not doc["enabled"]:
            raise KeyDisabled(f"Operation {operation} is not allowed on a disabled key.")
        if operation not in doc["key_ops"]:
            raise OperationNotAllowed(f"Operation {operation} is not permitted for this key.")
        return doc

    def private_key(self, doc: Document) -> PrivateKey:
        cache_key = f"{doc['vault']}/{doc['name'].lower()}/{doc['version']}"
        key = self._loaded.get(cache_key)
        if key is None:
            pem = self.cipher.decrypt(doc["private"]).encode("ascii")
            loaded = serialization.load_pem_private_key(pem, password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
            key = loaded
            self._loaded[cache_key] = key
            if len(self._loaded) > LOADED_KEYS_CACHE:
                self._loaded.popitem(last=False)
        return key

    def backup_versions(self, vault: str, name: str) -> tuple[str, list[Document]]:
        head = self.objects.live_head(vault, name)
        if head is None:
            raise KeyNotFound(name)
        versions = [dict(doc, private=self.cipher.decrypt(doc["private"]))
                    for doc in self.objects.versions(vault, name)]
        return head["name"], versions

    def restore_versions(self, vault: str, name: str, versions: list[Document]) -> Document:
        stored = [dict(doc, private=self.cipher.encrypt(doc["private"])) for doc in versions]
        return self.objects.restore(vault, name, stored)
