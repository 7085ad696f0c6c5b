"""az-style rendering: --query then -o json|tsv|table|yaml|none, exactly as knack prints."""

from __future__ import annotations

import pytest

from kvcsi.cli.output import render

CLUSTER = {
    "name": "MyAKSCluster",
    "identityProfile": {"kubeletidentity": {"clientId": "1111", "objectId": "2222"}},
    "enabled": True,
    "count": 3,
    "tags": None,
    "zones": ["1", "2"],
}


def test_query_and_tsv_give_the_bare_value_for_shell_capture() -> None:
    assert render(CLUSTER, "tsv", "identityProfile.kubeletidentity.clientId") == "1111\n"


def test_tsv_of_an_object_lists_values_in_key_order() -> None:
    # count, enabled, identityProfile (dict: empty), name, tags (None), zones (list: length)
    assert render(CLUSTER, "tsv") == "3\tTrue\t\tMyAKSCluster\tNone\t2\n"


def test_tsv_keeps_the_order_a_query_built_and_lowercases_bare_booleans() -> None:
    assert render(CLUSTER, "tsv", "{n: name, c: count}") == "MyAKSCluster\t3\n"
    assert render(CLUSTER, "tsv", "enabled") == "true\n"


def test_tsv_of_a_list_is_one_line_per_item() -> None:
    assert render([{"b": "x", "a": 1}, {"a": 2, "b": "y"}], "tsv") == "1\tx\n2\ty\n"


def test_json_is_indented_with_sorted_keys() -> None:
    assert render({"b": 1, "a": [1, "é"]}, "json") == \
        '{\n  "a": [\n    1,\n    "é"\n  ],\n  "b": 1\n}\n'


def test_table_has_capitalised_headers_and_skips_nested_ids_and_nulls() -> None:
    text = render([{"name": "rg1", "location": "eastus", "properties": {"x": 1}, "id": "/x",
                    "managedBy": None},
                   {"name": "group-two", "location": "westeurope"}], "table")
    assert text == ("Location    Name\n"
                    "----------  ---------\n"
                    "eastus      rg1\n"
                    "westeurope  group-two\n")
    assert render({"a": "x"}, "table") == "A\n---\nx\n"


def test_table_keeps_query_order() -> None:
    assert render({"name": "x", "count": 1}, "table", "{Name: name, Count: count}") == \
        "Name    Count\n------  -------\nx       1\n"


def test_yaml_and_none() -> None:
    assert render({"name": "x", "n": 1}, "yaml") == "n: 1\nname: x\n"
    assert render({"name": "x"}, "none") == ""


def test_a_query_that_matches_nothing_prints_nothing() -> None:
    assert render(CLUSTER, "tsv", "nothing.here") is None


@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_unknown_format_is_refused(fmt: str) -> None:
    with pytest.raises(ValueError, match=f"unknown output format '{fmt}'"):
        render({}, fmt)
