"""Cloud environments, the AzureStackCloud file, and the vault URL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kvcsi.provider.clouds import CloudEnvironment, resolve_cloud, vault_url
from kvcsi.provider.errors import MountError

ENV = "AZURE_ENVIRONMENT_FILEPATH"


def test_builtin_cloud_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    china = resolve_cloud("azurechinacloud", "", "AzurePublicCloud")
    assert (china.name, china.key_vault_dns_suffix) == ("AzureChinaCloud", "vault.azure.cn")
    assert resolve_cloud("", "", "AzureUSGovernmentCloud").active_directory_endpoint == \
        "https://login.microsoftonline.us/"
    assert resolve_cloud("AZUREGERMANCLOUD", "", "x").key_vault_endpoint == \
        "https://vault.microsoftazure.de/"


def test_unknown_cloud_has_upstream_text() -> None:
    with pytest.raises(MountError) as caught:
        resolve_cloud("MarsCloud", "", "AzurePublicCloud")
    assert str(caught.value) == ('cloudName MarsCloud is not valid, error: autorest/azure: '
                                 'There is no cloud environment matching the name "MARSCLOUD"')


def test_stack_cloud_reads_the_environment_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    path = tmp_path / "environment.json"
    path.write_text(json.dumps({
        "name": "KvcsiLocal", "activeDirectoryEndpoint": "https://localhost:8443/",
        "keyVaultEndpoint": "https://vault.localhost:8443/",
        "keyVaultDNSSuffix": "vault.localhost:8443",
        "resourceManagerEndpoint": "https://management.localhost:8443/"}))
    cloud = resolve_cloud("AzureStackCloud", str(path), "AzurePublicCloud")
    assert cloud == CloudEnvironment("KvcsiLocal", "https://localhost:8443/",
                                     "https://vault.localhost:8443/", "vault.localhost:8443",
                                     "https://management.localhost:8443/")
    assert vault_url("kv-Local1", cloud) == "https://kv-Local1.vault.localhost:8443/"


def test_cloud_env_file_name_does_not_leak_into_later_mounts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Upstream sets AZURE_ENVIRONMENT_FILEPATH for good; kvcsi uses the file for one mount.
    provider_file = tmp_path / "provider.json"
    spc_file = tmp_path / "spc.json"
    for path, suffix in ((provider_file, "vault.provider.test"), (spc_file, "vault.spc.test")):
        path.write_text(json.dumps({"name": path.stem, "activeDirectoryEndpoint": "https://a/",
                                    "keyVaultEndpoint": "https://v/",
                                    "keyVaultDNSSuffix": suffix}))
    monkeypatch.setenv(ENV, str(provider_file))
    first = resolve_cloud("AzureStackCloud", str(spc_file), "AzurePublicCloud")
    later = resolve_cloud("AzureStackCloud", "", "AzurePublicCloud")
    assert (first.key_vault_dns_suffix, later.key_vault_dns_suffix) == (
        "vault.spc.test", "vault.provider.test")
    assert os.environ[ENV] == str(provider_file)


def test_stack_cloud_without_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(MountError) as caught:
        resolve_cloud("", "", "AzureStackCloud")
    assert str(caught.value) == ("cloudName AzureStackCloud is not valid, error: "
                                 "open : no such file or directory")
    missing = tmp_path / "akscustom.json"
    monkeypatch.setenv(ENV, str(missing))
    with pytest.raises(MountError) as caught:
        resolve_cloud("AzureStackCloud", "", "AzurePublicCloud")
    assert str(caught.value) == (f"cloudName AzureStackCloud is not valid, error: "
                                 f"open {missing}: no such file or directory")


@pytest.mark.parametrize(("name", "message"), [
    ("kv", 'failed to get vault: Invalid vault name: "kv", must be between 3 and 24 chars'),
    ("k" * 25, f'failed to get vault: Invalid vault name: "{"k" * 25}", '
               "must be between 3 and 24 chars"),
    ("kv_name", 'failed to get vault: Invalid vault name: "kv_name", '
                "must match [-a-zA-Z0-9]{3,24}"),
])
def test_vault_name_check(name: str, message: str) -> None:
    cloud = resolve_cloud("AzurePublicCloud", "", "AzurePublicCloud")
    with pytest.raises(MountError) as caught:
        vault_url(name, cloud)
    assert str(caught.value) == message


def test_public_vault_url() -> None:
    cloud = resolve_cloud("AzurePublicCloud", "", "AzurePublicCloud")
    assert vault_url("my-vault-01", cloud) == "https://my-vault-01.vault.azure.net/"


@pytest.mark.parametrize(("cloud_name", "authority", "resource", "vault"), [
    ("AzurePublicCloud", "https://login.microsoftonline.com/", "https://vault.azure.net/",
     "https://kv1.vault.azure.net/"),
    ("azureusgovernmentcloud", "https://login.microsoftonline.us/",
     "https://vault.usgovcloudapi.net/", "https://kv1.vault.usgovcloudapi.net/"),
    ("AZURECHINACLOUD", "https://login.chinacloudapi.cn/", "https://vault.azure.cn/",
     "https://kv1.vault.azure.cn/"),
    ("AzureGermanCloud", "https://login.microsoftonline.de/", "https://vault.microsoftazure.de/",
     "https://kv1.vault.microsoftazure.de/"),
])
def test_every_builtin_cloud(cloud_name: str, authority: str, resource: str,
                             vault: str) -> None:
    cloud = resolve_cloud(cloud_name, "", "AzurePublicCloud")
    assert (cloud.active_directory_endpoint, cloud.key_vault_endpoint) == (authority, resource)
    assert vault_url("kv1", cloud) == vault
