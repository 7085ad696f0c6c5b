"""Path and mode validation of provider-returned files (upstream texts, §5.3)."""

from __future__ import annotations

import pytest

from kvcsi.driver.errors import FILE_WRITE_ERROR, InvalidPayload
from kvcsi.driver.paths import validate_mode, validate_path


@pytest.mark.parametrize(
    "path", ["username", "certs/tls.crt", "a/b/c", "foo\\bar", "x..y", ".hidden", "a..b/c", "b/..c"]
)
def test_accepted_paths(path):
    assert validate_path(path) is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", 'invalid path: must not be empty: ""'),
        ("/abs", "invalid path: must be relative path: /abs"),
        ("..", "invalid path: must not contain '..': .."),
        ("a/..", "invalid path: must not contain '..': a/.."),
        ("..data", "invalid path: must not start with '..': ..data"),
        ("..2026_01_01/x", "invalid path: must not start with '..': ..2026_01_01/x"),
        ("a//b", 'invalid filepath: "a//b"'),
        ("./a", 'invalid filepath: "./a"'),
        ("a/", 'invalid filepath: "a/"'),
        ("a/./b", 'invalid filepath: "a/./b"'),
        (".", 'invalid path: must name a file: "."'),
        ("a\x00b", 'invalid path: must not contain NUL: "a\\u0000b"'),
        ("x" * 256, "invalid path: filenames must be less than or equal to 255 characters"),
        ("a/" * 2048 + "b", "invalid path: must be less than or equal to 4096 characters"),
    ],
)
def test_refused_paths(path, message):
    with pytest.raises(InvalidPayload) as raised:
        validate_path(path)
    assert str(raised.value) == message
    assert raised.value.error_type == FILE_WRITE_ERROR


def test_longest_allowed_names_pass():
    assert validate_path("x" * 255) is None
    assert validate_path("/".join(["y" * 255] * 16)) is None  # 4095 characters


@pytest.mark.parametrize("mode", [0, 0o400, 0o644, 0o777])
def test_modes_in_range(mode):
    assert validate_mode("f", mode) is None


@pytest.mark.parametrize("mode", [-1, 0o1000, 0o2755, 0o4755, 2**31 - 1])
def test_modes_out_of_range(mode):
    with pytest.raises(InvalidPayload) as raised:
        validate_mode("f", mode)
    assert str(raised.value) == f'invalid file mode for "f": {mode} is outside 0..511 (0o777)'
