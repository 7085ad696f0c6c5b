"""``objectEncoding``: turn a secret's text into the file's bytes.

Upstream counterpart: ``getContentBytes`` in ``pkg/provider/provider.go``, with Go's
``encoding/base64`` (``StdEncoding``) and ``encoding/hex`` error texts, which upstream returns
without the per-object prefix. ``utf-8`` (or no encoding) writes the text as is.
"""

from __future__ import annotations

import base64
import binascii

ENCODING_UTF8 = "utf-8"
ENCODING_BASE64 = "base64"
ENCODING_HEX = "hex"

_BASE64_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def decode_base64(text: str) -> bytes:
    """Go ``base64.StdEncoding.DecodeString`` (CR/LF ignored), with Go's error text."""
    for index, char in enumerate(text):
        if char not in _BASE64_ALPHABET and char not in "\r\n":
            raise ValueError(f"illegal base64 data at input byte {index}")
    compact = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error:
        position = len(compact) - len(compact) % 4 if len(compact) % 4 else len(compact)
        if "=" in compact:
            position = compact.index("=")
        raise ValueError(f"illegal base64 data at input byte {position}") from None


def decode_hex(text: str) -> bytes:
    """Go ``hex.DecodeString`` with its error texts."""
    for char in text[: len(text) - len(text) % 2]:
        if char not in _HEX_DIGITS:
            raise ValueError(f"encoding/hex: invalid byte: U+{ord(char):04X} {char!r}")
    if len(text) % 2:
        raise ValueError("encoding/hex: odd length hex string")
    return bytes.fromhex(text)


def encode_content(text: str, encoding: str) -> bytes:
    """The file bytes for ``text`` under ``objectEncoding`` (case-insensitive); ValueError."""
    lowered = encoding.lower()
    if lowered == ENCODING_BASE64:
        return decode_base64(text)
    if lowered == ENCODING_HEX:
        return decode_hex(text)
    return text.encode("utf-8")
