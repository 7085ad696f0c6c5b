"""``az ad sp create-for-rbac`` and ``az ad app federated-credential``."""

from __future__ import annotations

from az_runner import Az
from azure.identity import ClientSecretCredential
from support.local_cloud import LocalCloud

from kvcsi.cli.az.ad import CREDENTIAL_WARNING


def test_create_for_rbac_output_and_working_secret(az: Az, cloud: LocalCloud, sub: str) -> None:
    az.ok("group", "create", "-n", "ad-rg", "-l", "eastus")
    scope = f"/subscriptions/{sub}/resourceGroups/ad-rg"
    result = az.ok("ad", "sp", "create-for-rbac", "--name", "ci-deployer",
                   "--role", "Reader", "--scopes", scope)
    created = result.json()
    assert sorted(created) == ["appId", "displayName", "password", "tenant"]
    assert (created["displayName"], created["tenant"]) == ("ci-deployer", cloud.tenant_id)
    assert len(created["password"]) == 40
    assert result.stderr == CREDENTIAL_WARNING
    assert az.ok("role", "assignment", "list", "--assignee", created["appId"], "--scope",
                 scope, "--query", "[].[roleDefinitionName, scope]", "-o", "tsv"
                 ).stdout == f"Reader\t{scope}\n"
    credential = ClientSecretCredential(
        created["tenant"], created["appId"], created["password"],
        authority=cloud.authority, disable_instance_discovery=True,
        connection_verify=cloud.ca_bundle)
    assert credential.get_token(cloud.endpoints["resource_manager"] + ".default").token
    tsv = az.ok("ad", "sp", "create-for-rbac", "-n", "second-app", "-o", "tsv").stdout
    app_id, name, password, tenant = tsv.rstrip("\n").split("\t")
    assert (name, tenant, len(password)) == ("second-app", cloud.tenant_id, 40)
    half = az("ad", "sp", "create-for-rbac", "--role", "Reader")
    assert (half.exit_code, half.stderr) == (
        1, "ERROR: usage error: To create role assignments, specify both --role and "
           "--scopes.\n")


def test_app_federated_credential(az: Az, tmp_path) -> None:
    created = az.ok("ad", "sp", "create-for-rbac", "-n", "fic-app").json()
    parameters = tmp_path / "credential.json"
    parameters.write_text('{"name": "gh-main", "issuer": "https://token.actions.example", '
                          '"subject": "repo:org/app:ref:refs/heads/main", '
                          '"audiences": ["api://AzureADTokenExchange"]}')
    added = az.ok("ad", "app", "federated-credential", "create", "--id", created["appId"],
                  "--parameters", f"@{parameters}").json()
    assert {key: added[key] for key in ("name", "issuer", "subject", "audiences")} == {
        "name": "gh-main", "issuer": "https://token.actions.example",
        "subject": "repo:org/app:ref:refs/heads/main",
        "audiences": ["api://AzureADTokenExchange"]}
    listed = az.ok("ad", "app", "federated-credential", "list", "--id", created["appId"],
                   "--query", "[].name", "-o", "tsv").stdout
    assert listed == "gh-main\n"
    assert az.ok("ad", "app", "federated-credential", "delete", "--id", created["appId"],
                 "--federated-credential-id", added["id"]).stdout == ""
    missing = az("ad", "app", "federated-credential", "list", "--id",
                 "00000000-0000-0000-0000-000000000000")
    assert missing.exit_code == 3
    assert missing.stderr.startswith("ERROR: (Request_ResourceNotFound) Resource "
                                     "'00000000-0000-0000-0000-000000000000' does not exist")
