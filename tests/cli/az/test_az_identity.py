"""``az identity``: user-assigned identities and their federated credentials."""

from __future__ import annotations

import pytest
from az_runner import Az, as_json
from support.local_cloud import LocalCloud

ISSUER = "https://oidc.example.test/issuer"
SUBJECT = "system:serviceaccount:default:workload"


@pytest.fixture(scope="module", autouse=True)
def group(az: Az) -> None:
    az.ok("group", "create", "-n", "id-rg", "-l", "westeurope")


def _identity_id(sub: str, name: str) -> str:
    return (f"/subscriptions/{sub}/resourceGroups/id-rg/providers/"
            f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}")


def test_create_show_list_delete(az: Az, cloud: LocalCloud, sub: str) -> None:
    created = az.ok("identity", "create", "-g", "id-rg", "-n", "app-id", "--tags", "team=a")
    body = created.json()
    principal = cloud.store.get("principal", body["principalId"])
    assert principal["appId"] == body["clientId"]
    assert principal["alternativeNames"] == [_identity_id(sub, "app-id")]
    expected = {"clientId": body["clientId"], "id": _identity_id(sub, "app-id"),
                "location": "westeurope", "name": "app-id", "principalId": body["principalId"],
                "resourceGroup": "id-rg", "tags": {"team": "a"}, "tenantId": cloud.tenant_id,
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities"}
    assert created.stdout == as_json(expected)
    assert az.ok("identity", "show", "-g", "id-rg", "-n", "app-id").stdout == as_json(expected)
    assert az.ok("identity", "show", "-g", "id-rg", "-n", "app-id", "-o", "tsv").stdout == (
        f"{body['clientId']}\t{expected['id']}\twesteurope\tapp-id\t{body['principalId']}\t"
        f"id-rg\t\t{cloud.tenant_id}\tMicrosoft.ManagedIdentity/userAssignedIdentities\n")
    assert az.ok("identity", "list", "-g", "id-rg", "--query", "[].name", "-o", "tsv"
                 ).stdout == "app-id\n"
    assert az.ok("identity", "delete", "-g", "id-rg", "-n", "app-id").stdout == ""
    assert cloud.store.get("principal", body["principalId"]) is None
    missing = az("identity", "show", "-g", "id-rg", "-n", "app-id")
    assert missing.exit_code == 3
    assert missing.stderr.startswith(
        "ERROR: (ResourceNotFound) The Resource 'Microsoft.ManagedIdentity/"
        "userAssignedIdentities/app-id' under resource group 'id-rg' was not found.")


def test_federated_credentials(az: Az, sub: str) -> None:
    az.ok("identity", "create", "-g", "id-rg", "-n", "wl-id")
    created = az.ok("identity", "federated-credential", "create", "-g", "id-rg",
                    "--identity-name", "wl-id", "-n", "fic-1", "--issuer", ISSUER,
                    "--subject", SUBJECT)
    expected = {"audiences": ["api://AzureADTokenExchange"],
                "id": f"{_identity_id(sub, 'wl-id')}/federatedIdentityCredentials/fic-1",
                "issuer": ISSUER, "name": "fic-1", "resourceGroup": "id-rg",
                "subject": SUBJECT,
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities/"
                        "federatedIdentityCredentials"}
    assert created.stdout == as_json(expected)
    assert az.ok("identity", "federated-credential", "list", "-g", "id-rg",
                 "--identity-name", "wl-id").stdout == as_json([expected])
    assert az.ok("identity", "federated-credential", "show", "-g", "id-rg",
                 "--identity-name", "wl-id", "-n", "fic-1", "--query",
                 "[issuer, subject]", "-o", "tsv").stdout == f"{ISSUER}\n{SUBJECT}\n"
    assert az.ok("identity", "federated-credential", "delete", "-g", "id-rg",
                 "--identity-name", "wl-id", "-n", "fic-1", "--yes").stdout == ""
    assert az.ok("identity", "federated-credential", "list", "-g", "id-rg",
                 "--identity-name", "wl-id").stdout == "[]\n"
    missing = az("identity", "federated-credential", "list", "-g", "id-rg",
                 "--identity-name", "nope")
    assert missing.exit_code == 3
    usage = az("identity", "federated-credential", "create", "-g", "id-rg",
               "--identity-name", "wl-id", "-n", "fic-2", "--issuer", ISSUER)
    assert usage.exit_code == 2
    assert usage.stderr.startswith("ERROR: the following arguments are required: --subject\n")
