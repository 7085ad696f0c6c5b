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

Errors, in upstream order, all before any token request or vault call:

* ``objects is not set``
* ``failed to yaml unmarshal objects, error: <yaml error>``
* ``unmarshal failed for keyVaultObjects at index <i>, error: <yaml error>``; a syntax error
  also names its layer, line, column and source line:
  ``yaml: line 3: mapping values are not allowed here (objects element 0, line 3, column 14:
  "  objectAlias: my-alias")`` (line numbers count inside that layer)
* ``failed to get objectType:<t>, objectName:<n>, objectVersion:<v>: <reason> (objects
  element <i>)`` where reason is, in this order: ``objectName is required`` (with any unknown
  keys and the nearest known key), ``Invalid vaultObjectTypes. Should be secret, key, or
  cert``, ``invalid objectFormat: <f>, should be PEM or PFX``, ``PFX format only supported for
  objectType: secret``, ``objectEncoding only supported for objectType: secret``, ``invalid
  objectEncoding: <e>, should be hex, base64 or utf-8``, ``file name must not be empty``,
  ``file name must be a relative path``, ``file name must not contain '..'``, ``file name must
  be a clean path: ...``, ``file permission must be a valid octal number: ...``.

Where kvcsi differs from upstream (deliberately; see docs/provider.md):

* ``objectType``, ``objectFormat`` and ``objectEncoding`` are all compared case-insensitively
  (upstream: type case-sensitive at fetch time, ``pfx`` case-sensitive in one check) and the
  type is validated up front; the reported id uses the lower-cased type.
* an empty ``objectName`` is its own error; an invalid ``filePermission`` is an error (upstream
  v1.3+ writes mode 0000); a file name must be in clean form (``./a``, ``a//b``, ``a/`` are
  refused here rather than by the driver); any ``..`` substring is refused, as upstream.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass, field, fields

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kvcsi.provider.errors import MountError, go_quote
from kvcsi.provider.suggestions import did_you_mean

OBJECT_TYPE_SECRET = "secret"
OBJECT_TYPE_KEY = "key"
OBJECT_TYPE_CERT = "cert"

FORMAT_PEM = "pem"
FORMAT_PFX = "pfx"
ENCODING_UTF8 = "utf-8"
ENCODING_BASE64 = "base64"
ENCODING_HEX = "hex"


OBJECT_TYPES = (OBJECT_TYPE_SECRET, OBJECT_TYPE_KEY, OBJECT_TYPE_CERT)


@dataclass(frozen=True)
class KeyVaultObject:
    """One entry of ``objects`` (every string field whitespace-trimmed, as written).

    ``index`` is the element's position in ``array``; ``unknown_keys`` the keys it carried
    that no field reads (upstream ignores them silently).
    """

    object_name: str = ""
    object_type: str = ""
    object_alias: str = ""
    object_version: str = ""
    object_format: str = ""
    object_encoding: str = ""
    file_permission: str = ""
    object_version_history: int = 0
    index: int = field(default=0, compare=False)
    unknown_keys: tuple[str, ...] = field(default=(), compare=False)

    @property
    def kind(self) -> str:
        """``objectType`` compared case-insensitively: ``secret``, ``key`` or ``cert``."""
        return self.object_type.lower()

    @property
    def wants_pfx(self) -> bool:
        return self.object_format.lower() == FORMAT_PFX

    @property
    def encoding(self) -> str:
        """``objectEncoding`` lower-cased; empty means utf-8."""
        return self.object_encoding.lower()

    @property
    def file_name(self) -> str:
        """The file this object is written to: the alias, else the name."""
        return self.object_alias or self.object_name

    @property
    def uid(self) -> str:
        """The object-version id reported to the driver: ``<objectType>/<objectName>``."""
        return f"{self.kind}/{self.object_name}"

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
KNOWN_OBJECT_KEYS = (*_STRING_KEYS, *_INT32_KEYS)
assert set(_STRING_KEYS.values()) | set(_INT32_KEYS.values()) == {
    f.name for f in fields(KeyVaultObject)} - {"index", "unknown_keys"}

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


def _compose(text: str, layer: str) -> Node | None:
    """The first document's node graph, or None for an empty document.

    A syntax error names the layer (``objects text`` or ``objects element N``), the line and
    column inside that layer, and the offending source line, so the same input always gives
    the same, locatable error (case BB-01).
    """
    try:
        for document in yaml.compose_all(text, Loader=yaml.BaseLoader):
            return document
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if mark is None:
            raise _YamlError(f"yaml: {error.problem or error.context} ({layer})") from None
        source_lines = text.splitlines()
        source = source_lines[mark.line] if mark.line < len(source_lines) else ""
        where = f"{layer}, line {mark.line + 1}, column {mark.column + 1}: {go_quote(source)}"
        raise _YamlError(
            f"yaml: line {mark.line + 1}: {error.problem or error.context} ({where})") from None
    except yaml.YAMLError as error:
        raise _YamlError(f"yaml: {error} ({layer})") from None


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


def _decode_object(node: Node | None, index: int) -> KeyVaultObject:
    """Decode one item into ``types.KeyVaultObject``; unknown keys are remembered."""
    if node is None or _is_null(node):
        return KeyVaultObject(index=index)
    if not isinstance(node, MappingNode):
        raise _UnmarshalErrors([_cannot(node, "types.KeyVaultObject")])
    problems: list[str] = []
    values: dict[str, str | int] = {}
    unknown: list[str] = []
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
        else:
            unknown.append(key)
    if problems:
        raise _UnmarshalErrors(problems)
    return KeyVaultObject(**values, index=index, unknown_keys=tuple(unknown))  # type: ignore[arg-type]


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


PARSE_CACHE_SIZE = 256


def parse_objects(objects: str) -> list[KeyVaultObject]:
    """Steps 9–11: decode ``objects`` into objects (not yet validated).

    The same text always decodes the same way, and a class is mounted again and again (new
    pods, rotation polls), so results are cached by text (pure-Python YAML costs about a
    millisecond per element).
    """
    if not objects.strip():
        raise MountError("objects is not set")
    return list(_parse_objects_cached(objects))


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse_objects_cached(objects: str) -> tuple[KeyVaultObject, ...]:
    return tuple(_parse_objects(objects))


def _parse_objects(objects: str) -> list[KeyVaultObject]:
    try:
        items = _decode_string_array(_compose(objects, "objects text"))
    except (_YamlError, _UnmarshalErrors) as error:
        raise MountError(f"failed to yaml unmarshal objects, error: {error}") from None
    parsed: list[KeyVaultObject] = []
    for index, item in enumerate(items):
        try:
            parsed.append(_decode_object(_compose(item, f"objects element {index}"), index))
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


def _unknown_keys_text(obj: KeyVaultObject) -> str:
    return ", ".join(f'"{key}"{did_you_mean(key, KNOWN_OBJECT_KEYS)}'
                     for key in obj.unknown_keys)


def _file_name_problem(file_name: str) -> str | None:
    """kvcsi's path rule: relative, no ``..`` anywhere (upstream's rule), in clean form."""
    if not file_name:
        return "file name must not be empty"
    if posixpath.isabs(file_name):
        return "file name must be a relative path"
    if ".." in file_name:
        return "file name must not contain '..'"
    clean = posixpath.normpath(file_name)
    if clean != file_name:
        return f"file name must be a clean path: {go_quote(file_name)} is not ({go_quote(clean)})"
    return None


def _validation_problem(obj: KeyVaultObject) -> str | None:
    if not obj.object_name:
        if obj.unknown_keys:
            return f"objectName is required; unknown keys: {_unknown_keys_text(obj)}"
        return "objectName is required"
    if obj.kind not in OBJECT_TYPES:
        return "Invalid vaultObjectTypes. Should be secret, key, or cert"
    object_format = obj.object_format
    if object_format:
        if object_format.lower() not in (FORMAT_PEM, FORMAT_PFX):
            return f"invalid objectFormat: {object_format}, should be PEM or PFX"
        # Upstream compares "pfx" case-sensitively here; kvcsi compares it like everywhere else.
        if obj.wants_pfx and obj.kind != OBJECT_TYPE_SECRET:
            return "PFX format only supported for objectType: secret"
    encoding = obj.object_encoding
    if encoding:
        if obj.kind != OBJECT_TYPE_SECRET:
            return "objectEncoding only supported for objectType: secret"
        if encoding.lower() not in (ENCODING_HEX, ENCODING_BASE64, ENCODING_UTF8):
            return f"invalid objectEncoding: {encoding}, should be hex, base64 or utf-8"
    name_problem = _file_name_problem(obj.file_name)
    if name_problem is not None:
        return name_problem
    if obj.file_permission:
        # Upstream v1.3+ silently turns an invalid value into mode 0; kvcsi keeps the
        # earlier (v1.2) rejection, which cannot produce unreadable files by accident.
        try:
            parse_file_permission(obj.file_permission)
        except ValueError as error:
            return f"file permission must be a valid octal number: {error}"
    return None


def validate_objects(objects: list[KeyVaultObject]) -> None:
    """Step 12: fail fast, before any token or vault call, on the first invalid object.

    The reason keeps upstream's wording and ends with the element it concerns, e.g.
    ``... objectVersion:: file name must not contain '..' (objects element 2)``.
    """
    for obj in objects:
        problem = _validation_problem(obj)
        if problem is not None:
            raise MountError(f"{obj.describe()}: {problem} (objects element {obj.index})")


def object_warnings(objects: list[KeyVaultObject]) -> list[str]:
    """One warning per element carrying keys that no field reads."""
    return [f"objects element {obj.index}: unknown keys: {_unknown_keys_text(obj)}"
            for obj in objects if obj.unknown_keys]
