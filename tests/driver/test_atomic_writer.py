"""The ..data atomic writer: layout, skip when unchanged, pruning, legacy cleanup."""

from __future__ import annotations

import os
import stat

import pytest

from kvcsi.driver.atomic_writer import FileProjection, write_payload
from kvcsi.driver.errors import FileWriteFailed, InvalidPayload


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_first_write_creates_the_layout(tmp_path):
    target = str(tmp_path)
    assert write_payload(
        target, {"a": FileProjection(b"1", 0o640), "d/e": FileProjection(b"2", 0o600)}
    )
    ts = os.readlink(tmp_path / "..data")
    assert sorted(os.listdir(target)) == sorted(["..data", ts, "a", "d"])
    assert os.readlink(tmp_path / "a") == "..data/a"
    assert os.readlink(tmp_path / "d") == "..data/d"
    assert read(str(tmp_path / "d" / "e")) == b"2"
    assert stat.S_IMODE(os.stat(tmp_path / ts / "a").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / ts / "d" / "e").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / ts).st_mode) == 0o755


def test_identical_content_is_not_rewritten(tmp_path):
    payload = {"a": FileProjection(b"1", 0o644)}
    write_payload(str(tmp_path), payload)
    ts = os.readlink(tmp_path / "..data")

    assert write_payload(str(tmp_path), payload) is False
    assert os.readlink(tmp_path / "..data") == ts


def test_mode_change_alone_is_written(tmp_path):
    write_payload(str(tmp_path), {"a": FileProjection(b"1", 0o644)})
    assert write_payload(str(tmp_path), {"a": FileProjection(b"1", 0o600)}) is True
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o600


def test_changed_payload_swaps_and_prunes(tmp_path):
    write_payload(
        str(tmp_path), {"a": FileProjection(b"1", 0o644), "b": FileProjection(b"x", 0o644)}
    )
    old_ts = os.readlink(tmp_path / "..data")

    assert write_payload(str(tmp_path), {"a": FileProjection(b"2", 0o644)}) is True

    new_ts = os.readlink(tmp_path / "..data")
    assert new_ts != old_ts
    # the previous generation stays until the next write (readers that resolved ..data)
    assert sorted(os.listdir(tmp_path)) == sorted(["..data", old_ts, new_ts, "a"])
    assert read(str(tmp_path / "a")) == b"2"

    assert write_payload(str(tmp_path), {"a": FileProjection(b"3", 0o644)}) is True
    newest_ts = os.readlink(tmp_path / "..data")
    assert sorted(os.listdir(tmp_path)) == sorted(["..data", new_ts, newest_ts, "a"])


def test_legacy_provider_written_files_are_replaced(tmp_path):
    (tmp_path / "a").write_bytes(b"written by an old provider")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_bytes(b"old")

    write_payload(
        str(tmp_path), {"a": FileProjection(b"new", 0o644), "dir/f": FileProjection(b"n", 0o644)}
    )

    assert os.path.islink(tmp_path / "a") and read(str(tmp_path / "a")) == b"new"
    assert os.path.islink(tmp_path / "dir") and read(str(tmp_path / "dir" / "f")) == b"n"


def test_invalid_payload_touches_nothing(tmp_path):
    (tmp_path / "a").write_bytes(b"keep")
    with pytest.raises(InvalidPayload):
        write_payload(
            str(tmp_path), {"a": FileProjection(b"x", 0o644), "../b": FileProjection(b"", 0o644)}
        )
    assert os.listdir(tmp_path) == ["a"] and read(str(tmp_path / "a")) == b"keep"


def test_missing_target_is_a_write_failure(tmp_path):
    missing = str(tmp_path / "missing")
    with pytest.raises(FileWriteFailed) as raised:
        write_payload(missing, {"a": FileProjection(b"x", 0o644)})
    assert str(raised.value) == f"stat {missing}: no such file or directory"


def test_file_and_directory_with_the_same_name_fail_cleanly(tmp_path):
    with pytest.raises(FileWriteFailed):
        write_payload(
            str(tmp_path), {"a": FileProjection(b"x", 0o644), "a/b": FileProjection(b"y", 0o644)}
        )
    assert os.listdir(tmp_path) == []
