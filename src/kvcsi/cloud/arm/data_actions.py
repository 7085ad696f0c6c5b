"""Key Vault data-plane operations: the RBAC data action and access-policy permission of each.

Upstream counterpart: the operation → ``dataAction`` table of Key Vault's RBAC guide and the
permission names of access policies (``azure-protocols.md`` §5.1, §5.3). ``kvcsi explain
--action`` and the audit log name operations by the names used here (``getSecret``,
``listKeys``, ...). Object-less operations (lists, restore) are checked at vault scope.
"""

from __future__ import annotations

from dataclasses import dataclass

_PREFIX = "Microsoft.KeyVault/vaults/"

SECRET = "secret"
KEY = "key"
CERTIFICATE = "certificate"
OBJECT_TYPES = (SECRET, KEY, CERTIFICATE)
# the access-policy permission list and the ARM scope segment of each object type
POLICY_CATEGORY = {SECRET: "secrets", KEY: "keys", CERTIFICATE: "certificates"}


@dataclass(frozen=True)
class DataOperation:
    """One data-plane operation: what RBAC and access policies each ask for."""

    name: str
    object_type: str
    data_action: str
    permission: str
    needs_object: bool = True

    @property
    def policy_category(self) -> str:
        return POLICY_CATEGORY[self.object_type]

    def describe_permission(self) -> str:
        """``secrets get``: how Key Vault's AccessDenied text names the permission."""
        return f"{self.policy_category} {self.permission}"


def _op(name: str, object_type: str, action: str, permission: str,
        needs_object: bool = True) -> DataOperation:
    return DataOperation(name, object_type, _PREFIX + action, permission, needs_object)


OPERATIONS: tuple[DataOperation, ...] = (
    _op("getSecret", SECRET, "secrets/getSecret/action", "get"),
    _op("setSecret", SECRET, "secrets/setSecret/action", "set"),
    _op("listSecrets", SECRET, "secrets/readMetadata/action", "list", needs_object=False),
    _op("listSecretVersions", SECRET, "secrets/readMetadata/action", "list"),
    _op("updateSecret", SECRET, "secrets/update/action", "set"),
    _op("deleteSecret", SECRET, "secrets/delete", "delete"),
    _op("backupSecret", SECRET, "secrets/backup/action", "backup"),
    _op("restoreSecret", SECRET, "secrets/restore/action", "restore", needs_object=False),
    _op("recoverSecret", SECRET, "secrets/recover/action", "recover"),
    _op("purgeSecret", SECRET, "secrets/purge/action", "purge"),
    _op("getDeletedSecret", SECRET, "secrets/readMetadata/action", "list"),
    _op("listDeletedSecrets", SECRET, "secrets/readMetadata/action", "list",
        needs_object=False),
    _op("getKey", KEY, "keys/read", "get"),
    _op("listKeys", KEY, "keys/read", "list", needs_object=False),
    _op("listKeyVersions", KEY, "keys/read", "list"),
    _op("createKey", KEY, "keys/create/action", "create"),
    _op("importKey", KEY, "keys/import/action", "import"),
    _op("updateKey", KEY, "keys/update/action", "update"),
    _op("deleteKey", KEY, "keys/delete", "delete"),
    _op("backupKey", KEY, "keys/backup/action", "backup"),
    _op("restoreKey", KEY, "keys/restore/action", "restore", needs_object=False),
    _op("recoverKey", KEY, "keys/recover/action", "recover"),
    _op("purgeKey", KEY, "keys/purge/action", "purge"),
    _op("getDeletedKey", KEY, "keys/read", "list"),
    _op("listDeletedKeys", KEY, "keys/read", "list", needs_object=False),
    _op("encrypt", KEY, "keys/encrypt/action", "encrypt"),
    _op("decrypt", KEY, "keys/decrypt/action", "decrypt"),
    _op("sign", KEY, "keys/sign/action", "sign"),
    _op("verify", KEY, "keys/verify/action", "verify"),
    _op("wrapKey", KEY, "keys/wrap/action", "wrapKey"),
    _op("unwrapKey", KEY, "keys/unwrap/action", "unwrapKey"),
    _op("rotateKey", KEY, "keys/rotate/action", "rotate"),
    _op("releaseKey", KEY, "keys/release/action", "release"),
    _op("getKeyRotationPolicy", KEY, "keyrotationpolicies/read", "getrotationpolicy"),
    _op("setKeyRotationPolicy", KEY, "keyrotationpolicies/write", "setrotationpolicy"),
    _op("getCertificate", CERTIFICATE, "certificates/read", "get"),
    _op("listCertificates", CERTIFICATE, "certificates/read", "list", needs_object=False),
    _op("listCertificateVersions", CERTIFICATE, "certificates/read", "list"),
    _op("createCertificate", CERTIFICATE, "certificates/create/action", "create"),
    _op("importCertificate", CERTIFICATE, "certificates/import/action", "import"),
    _op("updateCertificate", CERTIFICATE, "certificates/update/action", "update"),
    _op("deleteCertificate", CERTIFICATE, "certificates/delete", "delete"),
    _op("getCertificatePolicy", CERTIFICATE, "certificates/read", "get"),
    _op("updateCertificatePolicy", CERTIFICATE, "certificates/update/action", "update"),
    _op("getCertificateOperation", CERTIFICATE, "certificates/read", "get"),
    _op("backupCertificate", CERTIFICATE, "certificates/backup/action", "backup"),
    _op("restoreCertificate", CERTIFICATE, "certificates/restore/action", "restore",
        needs_object=False),
    _op("recoverCertificate", CERTIFICATE, "certificates/recover/action", "recover"),
    _op("purgeCertificate", CERTIFICATE, "certificates/purge/action", "purge"),
    _op("getDeletedCertificate", CERTIFICATE, "certificates/read", "list"),
    _op("listDeletedCertificates", CERTIFICATE, "certificates/read", "list",
        needs_object=False),
    _op("getCertificateIssuer", CERTIFICATE, "certificatecas/read", "getissuers"),
    _op("listCertificateIssuers", CERTIFICATE, "certificatecas/read", "listissuers",
        needs_object=False),
    _op("setCertificateIssuer", CERTIFICATE, "certificatecas/write", "setissuers"),
    _op("deleteCertificateIssuer", CERTIFICATE, "certificatecas/delete", "deleteissuers"),
    _op("setCertificateContacts", CERTIFICATE, "certificatecontacts/write", "managecontacts",
        needs_object=False),
)
_BY_NAME = {operation.name.lower(): operation for operation in OPERATIONS}
DEFAULT_OPERATION = {SECRET: "getSecret", KEY: "getKey", CERTIFICATE: "getCertificate"}


def operation(name: str) -> DataOperation | None:
    """The operation called ``name`` (case-insensitive), or None."""
    return _BY_NAME.get(name.lower())


def operation_names() -> list[str]:
    return [op.name for op in OPERATIONS]


def object_resource_id(vault_id: str, object_type: str, name: str | None) -> str:
    """The RBAC resource of an operation: the vault, or ``{vault}/{secrets|keys|...}/{name}``."""
    if not name:
        return vault_id
    return f"{vault_id}/{POLICY_CATEGORY[object_type]}/{name}"
