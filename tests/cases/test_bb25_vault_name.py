"""BB-25: a vault that does not exist, an unresolvable vault host, an invalid vault name."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from support.provider_world import World, objects_yaml

OBJECTS = objects_yaml("objectName: MySecret\nobjectType: secret")
NXDOMAIN_SUFFIX = "vault.kvcsi-nxdomain.test"


@pytest.mark.parametrize(("name", "reason"), [
    ("https://mykeyvault.vault.azure.net/", "must be between 3 and 24 chars"),
    ("ab", "must be between 3 and 24 chars"),
    ("my_key_vault", "must match [-a-zA-Z0-9]{3,24}"),
])
def test_format_errors_come_at_once(world: World, name: str, reason: str) -> None:
    world.gateway_calls.clear()
    outcome = world.mount(world.parameters(keyvaultName=name), OBJECTS)
    assert outcome.error == ("failed to mount objects, error: failed to get vault: Invalid "
                             f'vault name: "{name}", {reason}')
    assert world.gateway_calls == []


def test_missing_vault_names_the_host(world: World) -> None:
    start = time.monotonic()
    outcome = world.mount(world.parameters(keyvaultName="MyMissingVault"), OBJECTS)
    host = f"mymissingvault.{world.cloud.endpoints['keyvault_dns_suffix']}"
    error = outcome.error or ""
    assert error.startswith(
        "failed to mount objects, error: failed to get objectType:secret, objectName:MySecret, "
        f"objectVersion:: GET https://MyMissingVault.{host.split('.', 1)[1]}/secrets/MySecret/")
    assert "VaultNotFound" in error and host in error
    assert time.monotonic() - start < 10


def test_unresolvable_vault_host_is_a_dns_failure_naming_the_host(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A cloud whose vault DNS suffix has no records, as a real missing vault has none; the
    # resolver is stubbed so no DNS query leaves the machine.
    environment = json.loads((world.cloud.home / "cloud" / "environment.json").read_text())
    environment["keyVaultDNSSuffix"] = NXDOMAIN_SUFFIX
    env_file = tmp_path / "nxdomain.json"
    env_file.write_text(json.dumps(environment))
    resolve = socket.getaddrinfo

    def no_such_host(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(NXDOMAIN_SUFFIX):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    start = time.monotonic()
    outcome = world.mount(world.parameters(keyvaultName="MyMissingVault",
                                           cloudEnvFileName=str(env_file)), OBJECTS)
    assert outcome.error == (
        "failed to mount objects, error: failed to get objectType:secret, objectName:MySecret, "
        f"objectVersion:: failed to connect to MyMissingVault.{NXDOMAIN_SUFFIX}: failed to "
        f"resolve host mymissingvault.{NXDOMAIN_SUFFIX}: name or service not known")
    assert time.monotonic() - start < 10
