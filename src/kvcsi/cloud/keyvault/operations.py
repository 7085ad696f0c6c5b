"""Every Key Vault data-plane operation with what authorises it.

Each :class:`Operation` names its RBAC data action (``azure-protocols.md`` §5.1) and the
access-policy permission (§5.3) that allow it: ``collection`` is the access-policy list
(``secrets``, ``keys``, ``certificates``) and ``permission`` the entry in it. Deleted-object
reads use ``readMetadata``/``read`` with the ``list``/``get`` permissions (§5.1 marks that as
inferred). Operation names are the ones ``kvcsi.cloud.arm.data_actions`` and the audit
log use (``getSecret``, ``listKeys``, ...); the two tables must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "Microsoft.KeyVault/vaults/"


@dataclass(frozen=True)
class Operation:
    """One data-plane operation: its name, RBAC data action and access-policy permission."""

    name: str
    action: str
    collection: str
    permission: str


def _secret(name: str, action: str, permission: str) -> Operation:
    return Operation(name, PREFIX + "secrets/" + action, "secrets", permission)


def _key(name: str, action: str, permission: str) -> Operation:
    return Operation(name, PREFIX + "keys/" + action, "keys", permission)


def _certificate(name: str, action: str, permission: str) -> Operation:
    return Operation(name, PREFIX + "certificates/" + action, "certificates", permission)


GET_SECRET = _secret("getSecret", "getSecret/action", "get")
SET_SECRET = _secret("setSecret", "setSecret/action", "set")
LIST_SECRETS = _secret("listSecrets", "readMetadata/action", "list")
UPDATE_SECRET = _secret("updateSecret", "update/action", "set")
DELETE_SECRET = _secret("deleteSecret", "delete", "delete")
GET_DELETED_SECRET = _secret("getDeletedSecret", "readMetadata/action", "list")
LIST_DELETED_SECRETS = _secret("listDeletedSecrets", "readMetadata/action", "list")
RECOVER_SECRET = _secret("recoverSecret", "recover/action", "recover")
PURGE_SECRET = _secret("purgeSecret", "purge/action", "purge")
BACKUP_SECRET = _secret("backupSecret", "backup/action", "backup")
RESTORE_SECRET = _secret("restoreSecret", "restore/action", "restore")

GET_KEY = _key("getKey", "read", "get")
LIST_KEYS = _key("listKeys", "read", "list")
CREATE_KEY = _key("createKey", "create/action", "create")
IMPORT_KEY = _key("importKey", "import/action", "import")
UPDATE_KEY = _key("updateKey", "update/action", "update")
DELETE_KEY = _key("deleteKey", "delete", "delete")
GET_DELETED_KEY = _key("getDeletedKey", "read", "list")
LIST_DELETED_KEYS = _key("listDeletedKeys", "read", "list")
RECOVER_KEY = _key("recoverKey", "recover/action", "recover")
PURGE_KEY = _key("purgeKey", "purge/action", "purge")
BACKUP_KEY = _key("backupKey", "backup/action", "backup")
RESTORE_KEY = _key("restoreKey", "restore/action", "restore")
ENCRYPT = _key("encrypt", "encrypt/action", "encrypt")
DECRYPT = _key("decrypt", "decrypt/action", "decrypt")
WRAP_KEY = _key("wrapKey", "wrap/action", "wrapKey")
UNWRAP_KEY = _key("unwrapKey", "unwrap/action", "unwrapKey")
SIGN = _key("sign", "sign/action", "sign")
VERIFY = _key("verify", "verify/action", "verify")

GET_CERTIFICATE = _certificate("getCertificate", "read", "get")
LIST_CERTIFICATES = _certificate("listCertificates", "read", "list")
CREATE_CERTIFICATE = _certificate("createCertificate", "create/action", "create")
IMPORT_CERTIFICATE = _certificate("importCertificate", "import/action", "import")
UPDATE_CERTIFICATE = _certificate("updateCertificate", "update/action", "update")
DELETE_CERTIFICATE = _certificate("deleteCertificate", "delete", "delete")
GET_DELETED_CERTIFICATE = _certificate("getDeletedCertificate", "read", "list")
LIST_DELETED_CERTIFICATES = _certificate("listDeletedCertificates", "read", "list")
RECOVER_CERTIFICATE = _certificate("recoverCertificate", "recover/action", "recover")
PURGE_CERTIFICATE = _certificate("purgeCertificate", "purge/action", "purge")
BACKUP_CERTIFICATE = _certificate("backupCertificate", "backup/action", "backup")
RESTORE_CERTIFICATE = _certificate("restoreCertificate", "restore/action", "restore")
LIST_CERTIFICATE_VERSIONS = _certificate("listCertificateVersions", "read", "list")
GET_CERTIFICATE_POLICY = _certificate("getCertificatePolicy", "read", "get")
UPDATE_CERTIFICATE_POLICY = _certificate("updateCertificatePolicy", "update/action", "update")
GET_CERTIFICATE_OPERATION = _certificate("getCertificateOperation", "read", "get")
GET_CERTIFICATE_ISSUER = Operation("getCertificateIssuer", PREFIX + "certificatecas/read",
                                   "certificates", "getissuers")
LIST_CERTIFICATE_ISSUERS = Operation("listCertificateIssuers", PREFIX + "certificatecas/read",
                                     "certificates", "listissuers")
SET_CERTIFICATE_ISSUER = Operation("setCertificateIssuer", PREFIX + "certificatecas/write",
                                   "certificates", "setissuers")
DELETE_CERTIFICATE_ISSUER = Operation("deleteCertificateIssuer",
                                      PREFIX + "certificatecas/delete", "certificates",
                                      "deleteissuers")
# Key Vault has one contacts data action (write); reading contacts needs it too (choice)
SET_CERTIFICATE_CONTACTS = Operation("setCertificateContacts",
                                     PREFIX + "certificatecontacts/write", "certificates",
                                     "managecontacts")
LIST_SECRET_VERSIONS = _secret("listSecretVersions", "readMetadata/action", "list")
LIST_KEY_VERSIONS = _key("listKeyVersions", "read", "list")
