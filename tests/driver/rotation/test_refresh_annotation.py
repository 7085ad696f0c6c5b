"""The on-demand refresh token and the ``kvcsi kubectl annotate`` that sets it."""

from __future__ import annotations

import argparse

import pytest

from kvcsi.cli.kubectl.annotate import apply_changes, parse_changes, split_flags
from kvcsi.cli.kubectl.context import KubectlError
from kvcsi.driver.rotation_refresh import REFRESH_ANNOTATION, refresh_token


def _obj(annotations: dict | None = None) -> dict:
    metadata: dict = {"name": "mypod"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"metadata": metadata}


def test_refresh_token_combines_pod_and_class() -> None:
    assert refresh_token(_obj(), _obj()) == ""
    assert refresh_token(None, None) == ""
    assert refresh_token(_obj({REFRESH_ANNOTATION: "1"}), None) == "pod=1;spc="
    assert refresh_token(_obj(), _obj({REFRESH_ANNOTATION: "x"})) == "pod=;spc=x"


def test_annotate_sets_and_removes() -> None:
    obj = _obj({"keep": "me", "drop": "me"})
    sets, removes = parse_changes([f"{REFRESH_ANNOTATION}=now", "drop-"])
    apply_changes(obj, sets, removes, overwrite=False)
    assert obj["metadata"]["annotations"] == {"keep": "me", REFRESH_ANNOTATION: "now"}


def test_annotate_refuses_to_change_a_value_without_overwrite() -> None:
    obj = _obj({REFRESH_ANNOTATION: "1"})
    with pytest.raises(KubectlError) as refused:
        apply_changes(obj, {REFRESH_ANNOTATION: "2"}, [], overwrite=False)
    assert refused.value.text == (
        "error: --overwrite is false but found the following declared annotation(s): "
        f"'{REFRESH_ANNOTATION}' already has a value (1)")
    apply_changes(obj, {REFRESH_ANNOTATION: "2"}, [], overwrite=True)
    assert obj["metadata"]["annotations"] == {REFRESH_ANNOTATION: "2"}


def test_options_after_the_positionals_are_understood() -> None:
    args = argparse.Namespace(items=["mypod", "-n", "myns", "--overwrite", "a=b"],
                              namespace=None, overwrite=False)
    assert split_flags(args) == ["mypod", "a=b"]
    assert (args.namespace, args.overwrite) == ("myns", True)


@pytest.mark.parametrize("item", ["novalue", "=x", "-"])
def test_malformed_annotations_are_refused(item: str) -> None:
    with pytest.raises(KubectlError) as refused:
        parse_changes([item])
    assert refused.value.text == f"error: invalid annotation format: {item}"
