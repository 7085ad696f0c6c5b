"""The one error type of the provider core (upstream: the plain Go errors of ``pkg/provider``).

Every failure of a mount is a :class:`MountError` whose text is the exact message upstream
produces (before the gRPC layer adds ``failed to mount objects, error: ``). The texts never
carry a secret value, a client secret or a token.
"""

from __future__ import annotations


class MountError(Exception):
    """A mount failed; ``str(error)`` is the user-facing cause, upstream wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.warnings: list[str] = []

    def __str__(self) -> str:
        return self.message


def go_quote(text: str) -> str:
    """Quote ``text`` the way Go's ``%q`` / ``strconv.Quote`` does for printable input."""
    out = ['"']
    for char in text:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif not char.isprintable():
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x80 else (
                f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
