"""``az group``: create, show, list, exists, delete — outputs and errors as az prints them."""

from __future__ import annotations

from az_runner import Az, as_json


def _group(sub: str, name: str, location: str = "eastus", tags: dict | None = None) -> dict:
    return {"id": f"/subscriptions/{sub}/resourceGroups/{name}", "location": location,
            "managedBy": None, "name": name, "properties": {"provisioningState": "Succeeded"},
            "tags": tags, "type": "Microsoft.Resources/resourceGroups"}


def test_create_show_and_tsv(az: Az, sub: str) -> None:
    created = az.ok("group", "create", "--name", "groups-a", "--location", "East US",
                    "--tags", "env=dev", "team")
    assert created.stdout == as_json(_group(sub, "groups-a", tags={"env": "dev", "team": ""}))
    assert created.stderr == ""
    shown = az.ok("group", "show", "-n", "groups-a", "-o", "tsv")
    assert shown.stdout == (f"/subscriptions/{sub}/resourceGroups/groups-a\teastus\tNone\t"
                            "groups-a\t\t\tMicrosoft.Resources/resourceGroups\n")
    assert az.ok("group", "show", "-g", "groups-a", "--query", "id", "-o", "tsv").stdout == \
        f"/subscriptions/{sub}/resourceGroups/groups-a\n"


def test_list_exists_and_delete(az: Az, sub: str) -> None:
    az.ok("group", "create", "-n", "groups-b", "-l", "westeurope")
    listed = az.ok("group", "list", "--query", "[?name=='groups-b']").stdout
    assert listed == as_json([_group(sub, "groups-b", "westeurope")])
    assert az.ok("group", "list", "--query", "[?name=='groups-b'].[name, location]",
                 "-o", "tsv").stdout == "groups-b\twesteurope\n"
    assert az.ok("group", "exists", "-n", "groups-b").stdout == "true\n"
    assert az.ok("group", "exists", "-n", "groups-b", "-o", "tsv").stdout == "true\n"
    deleted = az.ok("group", "delete", "-n", "groups-b", "--yes")
    assert (deleted.stdout, deleted.stderr) == ("", "")
    assert az.ok("group", "exists", "-n", "groups-b").stdout == "false\n"


def test_show_of_a_missing_group_exits_3(az: Az) -> None:
    missing = az("group", "show", "-n", "no-such-group")
    assert missing.exit_code == 3
    assert missing.stdout == ""
    assert missing.stderr == (
        "ERROR: (ResourceGroupNotFound) Resource group 'no-such-group' could not be found.\n"
        "Code: ResourceGroupNotFound\n"
        "Message: Resource group 'no-such-group' could not be found.\n")
    assert az("group", "delete", "-n", "no-such-group", "-y").exit_code == 3


def test_a_missing_argument_exits_2_with_usage(az: Az) -> None:
    result = az("group", "create", "-n", "groups-c")
    assert result.exit_code == 2
    assert result.stderr == ("ERROR: the following arguments are required: --location/-l\n\n"
                             "Run 'kvcsi az group create --help' to see the usage.\n")
    bad_format = az("group", "list", "-o", "xml")
    assert bad_format.exit_code == 2
    assert bad_format.stderr.startswith(
        "ERROR: argument --output/-o: invalid choice: 'xml' (choose from 'json', 'jsonc', "
        "'tsv', 'table', 'yaml', 'yamlc', 'none')\n")


def test_a_conflicting_location_is_an_error(az: Az) -> None:
    az.ok("group", "create", "-n", "groups-d", "-l", "eastus")
    result = az("group", "create", "-n", "groups-d", "-l", "westus")
    assert result.exit_code == 1
    assert result.stderr == (
        "ERROR: (InvalidResourceGroupLocation) Invalid resource group location 'westus'. The "
        "Resource group already exists in location 'eastus'.\n"
        "Code: InvalidResourceGroupLocation\n"
        "Message: Invalid resource group location 'westus'. The Resource group already exists "
        "in location 'eastus'.\n")


def test_delete_without_yes_and_without_a_terminal_refuses(az: Az) -> None:
    az.ok("group", "create", "-n", "groups-e", "-l", "eastus")
    result = az("group", "delete", "-n", "groups-e")
    assert result.exit_code == 1
    assert result.stderr == ("ERROR: Unable to prompt for confirmation as no tty available. "
                             "Use --yes.\n")
    assert az.ok("group", "exists", "-n", "groups-e").stdout == "true\n"


def test_table_and_yaml_and_none(az: Az) -> None:
    az.ok("group", "create", "-n", "groups-f", "-l", "northeurope")
    table = az.ok("group", "show", "-n", "groups-f", "-o", "table").stdout
    assert table == ("Location     Name\n"
                     "-----------  --------\n"
                     "northeurope  groups-f\n")
    yaml_text = az.ok("group", "show", "-n", "groups-f", "-o", "yaml",
                      "--query", "{name: name, location: location}").stdout
    assert yaml_text == "location: northeurope\nname: groups-f\n"
    assert az.ok("group", "show", "-n", "groups-f", "-o", "none").stdout == ""
    assert az.ok("group", "show", "-n", "groups-f", "-o", "jsonc", "--only-show-errors"
                 ).stdout == az.ok("group", "show", "-n", "groups-f").stdout
