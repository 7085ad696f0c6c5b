"""Encryption at rest of secret values (Fernet, key file ``cloud/keyvault-secrets.key``, 0600).

Key Vault never stores secret values in clear; neither does the local one. The key is made
once per state directory; losing it makes the stored values unreadable, like losing an HSM.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet

from kvcsi.cloud.statefiles import cloud_dir, write_private

KEY_FILE = "keyvault-secrets.key"


class SecretCipher:
    def __init__(self, home: Path | str) -> None:
        path = cloud_dir(home) / KEY_FILE
        if not path.exists():
            write_private(path, Fernet.generate_key())
        self._fernet = Fernet(path.read_bytes().strip())

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
