"""The ``objects`` parameter: which Key Vault objects to fetch and how to name their files.

Upstream counterpart: ``pkg/provider/types/types.go`` (``KeyVaultObject``, ``StringArray``)
and ``pkg/provider/validate.go``, decoded with yaml.v3.

``objects`` is YAML whose top level maps ``array`` to a list of strings; each string is a YAML
mapping for one object::

    array:
      - |
        objectName: db-password
        objectType: secret
        objectAlias: db/password

yaml.v3 decodes a scalar into a string field as its *source text*, so ``0755`` stays
``"0755"`` and ``yes`` stays ``"yes"``; null scalars become ``""``. This module therefore
composes the YAML node graph (no YAML 1.1 type coercion) and decodes it with yaml.v3's rules
and error texts (``yaml: unmarshal errors:\\n  line N: cannot unmarshal !!map into string``).

Errors, in upstream order:

* ``objects is not set``
* ``failed to yaml unmarshal objects, error: <yaml error>``
* ``unmarshal failed for keyVaultObjects at index <i>, error: <yaml error>``
* ``failed to get objectType:<t>, objectName:<n>, objectVersion:<v>: <reason>`` where reason
  is one of ``invalid objectFormat: <f>, should be PEM or PFX``, ``PFX format only supported
  for objectType: secret``, ``objectEncoding only supported for objectType: secret``,
  ``invalid objectEncoding: <e>, should be hex, base64 or utf-8``, ``file name must not be
  empty``, ``file name must be a relative path``, ``file name must not contain '..'``,
  ``file permission must be a valid octal number: ...``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, fields

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kvcsi.provider.errors import MountError, go_quote

OBJECT_TYPE_SECRET = "secret"
OBJECT_TYPE_KEY = "key"
OBJECT_TYPE_CERT = "cert"

FORMAT_PEM = "pem"
FORMAT_PFX = "pfx"
ENCODING_UTF8 = "utf-8"
ENCODING_BASE64 = "base64"
ENCODING_HEX = "hex"


@dataclass(frozen=True)
class KeyVaultObject:
    """One entry of ``objects`` (every string field whitespace-trimmed)."""

    object_name: str = ""
    object_type: str = ""
    object_alias: str = ""
    object_version: str = ""
    object_format: str = ""
    object_encoding: str = ""
    file_permission: str = ""
    object_version_history: int = 0

    @property
    def file_name(self) -> str:
        """The file this object is written to: the alias, else the name."""
        return self.object_alias or self.object_name

    @property
    def uid(self) -> str:
        """The object-version id reported to the driver: ``<objectType>/<objectName>``."""
        return f"{self.object_type}/{self.object_name}"

    def describe(self) -> str:
        """Upstream's error prefix for this object (without the trailing ``: ``)."""
        return (f"failed to get objectType:{self.object_type}, objectName:{self.object_name}, "
                f"objectVersion:{self.object_version}")


# yaml key -> dataclass field, for the string fields and the one int32 field.
_STRING_KEYS = {
    "objectName": "object_name",
    "objectType": "object_type",
    "objectAlias": "object_alias",
    "objectVersion": "object_version",
    "objectFormat": "object_format",
    "objectEncoding": "object_encoding",
    "filePermission": "file_permission",
}
_INT32_KEYS = {"objectVersionHistory": "object_version_history"}
assert set(_STRING_KEYS.values()) | set(_INT32_KEYS.values()) == {
    f.name for f in fields(KeyVaultObject)}

_CORE_TAG = "tag:yaml.org,2002:"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|0[0-7_]+)")
_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)"
    r"|\.(nan|NaN|NAN)")


class _YamlError(Exception):
    pass


class _UnmarshalErrors(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("yaml: unmarshal errors:\n  " + "\n  ".join(problems))


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.style is None and node.value in _NULLS


def _short_tag(node: Node) -> str:
    """The yaml.v3 resolved tag of a node, as it appears in errors (``!!str``, ``!!map``)."""
    if isinstance(node, MappingNode):
        return "!!map"
    if isinstance(node, SequenceNode):
        return "!!seq"
    explicit = node.tag or ""
    if explicit.startswith(_CORE_TAG) and explicit != _CORE_TAG + "str":
        return "!!" + explicit[len(_CORE_TAG):]
    if node.style is not None:
        return "!!str"
    value = node.value
    if value in _NULLS:
        return "!!null"
    if value in _BOOLS:
        return "!!bool"
    if _INT.fullmatch(value):
        return "!!int"
    if _FLOAT.fullmatch(value):
        return "!!float"
    return "!!str"


def _cannot(node: Node, target: str) -> str:
    line = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        value = node.value if len(node.value) <= 10 else node.value[:7] + "..."
        return f"line {line}: cannot unmarshal {_short_tag(node)} `{value}` into {target}"
    return f"line {line}: cannot unmarshal {_short_tag(node)} into {target}"


def _compose(text: str) -> Node | None:
    """The first document's node graph, or None for an empty document."""
    try:
        for document in yaml.compose_all(text, Loader=yaml.BaseLoader):
            return document
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise _YamlError(f"yaml: {line}{error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise _YamlError(f"yaml: {error}") from None


def _mapping_items(node: MappingNode, problems: list[str]) -> list[tuple[str, Node]]:
    """Key/value pairs of a mapping, reporting duplicate keys as yaml.v3 does."""
    seen: dict[str, int] = {}
    items: list[tuple[str, Node]] = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            continue
        key = key_node.value
        if key in seen:
            problems.append(f'line {key_node.start_mark.line + 1}: mapping key {go_quote(key)} '
                            f"already defined at line {seen[key]}")
            continue
        seen[key] = key_node.start_mark.line + 1
        items.append((key, value_node))
    return items


def _decode_string_array(node: Node | None) -> list[str]:
    """Decode the outer document into ``types.StringArray`` (``array: [string]``)."""
    if node is None or _is_null(node):
        return []
    if not isinstance(node, MappingNode):
        raise _UnmarshalErrors([_cannot(node, "types.StringArray")])
    problems: list[str] = []
    result: list[str] = []
    for key, value in _mapping_items(node, problems):
        if key != "array" or _is_null(value):
            continue
        if not isinstance(value, SequenceNode):
            problems.append(_cannot(value, "[]string"))
            continue
        result = []
        for item in value.value:
            if isinstance(item, ScalarNode):
                result.append("" if _is_null(item) else item.value)
            else:
                problems.append(_cannot(item, "string"))
                result.append("")
    if problems:
        raise _UnmarshalErrors(problems)
    return result


def _decode_object(node: Node | None) -> KeyVaultObject:
    """Decode one item into ``types.KeyVaultObject``; unknown keys are ignored."""
    if node is None or _is_null(node):
        return KeyVaultObject()
    if not isinstance(node, MappingNode):
        raise _UnmarshalErrors([_cannot(node, "types.KeyVaultObject")])
    problems: list[str] = []
    values: dict[str, str | int] = {}
    for key, value in _mapping_items(node, problems):
        if key in _STRING_KEYS:
            if isinstance(value, ScalarNode):
                values[_STRING_KEYS[key]] = "" if _is_null(value) else value.value.strip()
            else:
                problems.append(_cannot(value, "string"))
        elif key in _INT32_KEYS:
            if _is_null(value):
                continue
            number = _int32(value)
            if number is None:
                problems.append(_cannot(value, "int32"))
            else:
                values[_INT32_KEYS[key]] = number
    if problems:
        raise _UnmarshalErrors(problems)
    return KeyVaultObject(**values)  # type: ignore[arg-type]


def _int32(node: Node) -> int | None:
    if not isinstance(node, ScalarNode) or _short_tag(node) != "!!int":
        return None
    text = node.value.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    try:
        if digits.startswith(("0x", "0o", "0b")):
            number = int(digits, 0)
        elif len(digits) > 1 and digits.startswith("0"):
            number = int(digits, 8)
        else:
            number = int(digits)
    except ValueError:
        return None
    number *= sign
    return number if -(2**31) <= number < 2**31 else None


def parse_objects(objects: str) -> list[KeyVaultObject]:
    """Steps 9–11: decode ``objects`` into objects (not yet validated)."""
    if not objects.strip():
        raise MountError("objects is not set")
    try:
        items = _decode_string_array(_compose(objects))
    except (_YamlError, _UnmarshalErrors) as error:
        raise MountError(f"failed to yaml unmarshal objects, error: {error}") from None
    parsed: list[KeyVaultObject] = []
    for index, item in enumerate(items):
        try:
            parsed.append(_decode_object(_compose(item)))
        except (_YamlError, _UnmarshalErrors) as error:
            raise MountError(
                f"unmarshal failed for keyVaultObjects at index {index}, error: {error}"
            ) from None
    return parsed


def parse_file_permission(text: str) -> int:
    """An octal ``filePermission`` such as ``0600``; ValueError with Go's ParseInt text."""
    digits = text[1:] if text.startswith("0") and len(text) > 1 else text
    if not digits or not re.fullmatch(r"[0-7]+", digits) or int(digits, 8) > 0o7777:
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    return int(digits, 8)


def _validation_problem(obj: KeyVaultObject) -> str | None:
    object_format = obj.object_format
    if object_format:
        if object_format.lower() not in (FORMAT_PEM, FORMAT_PFX):
            return f"invalid objectFormat: {object_format}, should be PEM or PFX"
        if object_format == FORMAT_PFX and obj.object_type != OBJECT_TYPE_SECRET:
            return "PFX format only supported for objectType: secret"
    encoding = obj.object_encoding
    if encoding:
        if obj.object_type != OBJECT_TYPE_SECRET:
            return "objectEncoding only supported for objectType: secret"
        if encoding.lower() not in (ENCODING_HEX, ENCODING_BASE64, ENCODING_UTF8):
            return f"invalid objectEncoding: {encoding}, should be hex, base64 or utf-8"
    file_name = obj.file_name
    if not file_name:
        return "file name must not be empty"
    if posixpath.isabs(file_name):
        return "file name must be a relative path"
    if ".." in file_name:
        return "file name must not contain '..'"
    if obj.file_permission:
        # Upstream v1.3+ silently turns an invalid value into mode 0; kvcsi keeps the
        # earlier (v1.2) rejection, which cannot produce unreadable files by accident.
        try:
            parse_file_permission(obj.file_permission)
        except ValueError as error:
            return f"file permission must be a valid octal number: {error}"
    return None


def validate_objects(objects: list[KeyVaultObject]) -> None:
    """Step 12: fail fast, before any vault call, on the first invalid object."""
    for obj in objects:
        problem = _validation_problem(obj)
        if problem is not None:
            raise MountError(f"{obj.describe()}: {problem}")
