"""``az account``: show, list, set and a second subscription through ``account alias``."""

from __future__ import annotations

import json

from az_runner import Az, as_json
from support.local_cloud import LocalCloud


def _account(cloud: LocalCloud, sub: str, name: str, default: bool) -> dict:
    client_id = json.loads((cloud.home / "cloud" / "cli-credential.json").read_text())["clientId"]
    return {"environmentName": "KvcsiLocal", "homeTenantId": cloud.tenant_id, "id": sub,
            "isDefault": default, "managedByTenants": [], "name": name, "state": "Enabled",
            "tenantDefaultDomain": "kvcsi.localhost",
            "tenantDisplayName": "kvcsi local directory", "tenantId": cloud.tenant_id,
            "user": {"name": client_id, "type": "servicePrincipal"}}


def test_show_in_json_and_tsv(az: Az, cloud: LocalCloud, sub: str) -> None:
    assert az.ok("account", "show").stdout == as_json(_account(cloud, sub, "kvcsi-local", True))
    client_id = _account(cloud, sub, "", True)["user"]["name"]
    assert az.ok("account", "show", "-o", "tsv").stdout == (
        f"KvcsiLocal\t{cloud.tenant_id}\t{sub}\tTrue\t0\tkvcsi-local\tEnabled\t"
        f"kvcsi.localhost\tkvcsi local directory\t{cloud.tenant_id}\t\n")
    assert az.ok("account", "show", "--query", "user.name", "-o", "tsv").stdout == \
        client_id + "\n"


def test_second_subscription_list_and_set(az: Az, cloud: LocalCloud, sub: str) -> None:
    created = az.ok("account", "alias", "create", "--name", "team-b",
                    "--display-name", "Team B").json()
    second = created["properties"]["subscriptionId"]
    assert created == {"id": "/providers/Microsoft.Subscription/aliases/team-b",
                       "name": "team-b", "type": "Microsoft.Subscription/aliases",
                       "properties": {"provisioningState": "Succeeded",
                                      "subscriptionId": second}}
    expected = {sub: _account(cloud, sub, "kvcsi-local", True),
                second: _account(cloud, second, "Team B", False)}
    order = az.ok("account", "list", "--query", "[].id", "-o", "tsv").stdout.split()
    assert sorted(order) == sorted(expected)
    assert az.ok("account", "list").stdout == as_json([expected[i] for i in order])
    assert az.ok("account", "set", "--subscription", "Team B").stdout == ""
    try:
        assert az.ok("account", "show", "--query", "{id: id, default: isDefault}", "-o",
                     "tsv").stdout == f"{second}\tTrue\n"
        # a bare list is one row per item, a bare boolean lower-case, as knack prints them
        assert az.ok("account", "show", "--query", "[id, isDefault]", "-o", "tsv").stdout == \
            f"{second}\ntrue\n"
        az.ok("group", "create", "-n", "in-team-b", "-l", "eastus")
        assert az.ok("group", "show", "-n", "in-team-b", "--query", "id", "-o", "tsv"
                     ).stdout == f"/subscriptions/{second}/resourceGroups/in-team-b\n"
        assert az("group", "show", "-n", "in-team-b", "--subscription", sub).exit_code == 3
        rows = az.ok("account", "list", "--query", "[].[name, isDefault]", "-o", "tsv").stdout
        assert sorted(rows.splitlines()) == ["Team B\tTrue", "kvcsi-local\tFalse"]
    finally:
        az.ok("account", "set", "-s", sub)
    assert az.ok("account", "show", "--query", "id", "-o", "tsv").stdout == f"{sub}\n"


def test_set_to_an_unknown_subscription_fails(az: Az) -> None:
    result = az("account", "set", "-s", "nope")
    assert result.exit_code == 1
    assert result.stderr == "ERROR: The subscription of 'nope' doesn't exist in cloud " \
                            "'KvcsiLocal'.\n"
    assert az("account", "set").exit_code == 2
