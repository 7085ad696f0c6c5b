"""Structural validation of custom resources against their CRD's ``openAPIV3Schema``.

Counterpart: apiextensions-apiserver's schema validation, reduced to types, ``required``,
``properties``, ``additionalProperties`` and ``items``. The texts are the API server's, e.g.
``spec.parameters.usePodIdentity: Invalid value: "boolean": spec.parameters.usePodIdentity
in body must be of type string: "boolean"`` (a YAML ``false`` where a string is needed).
"""

from __future__ import annotations

from typing import Any

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool) and wanted in ("integer", "number"):
        return False
    return isinstance(value, _JSON_TYPES.get(wanted, (object,)))


def schema_causes(schema: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """Validation causes for a custom resource body (metadata, apiVersion, kind skipped)."""
    causes: list[str] = []
    properties = schema.get("properties") or {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind", "metadata") or key not in properties:
            continue
        _check(properties[key], value, key, causes)
    return causes


def _check(schema: dict[str, Any], value: Any, path: str, causes: list[str]) -> None:
    wanted = schema.get("type")
    if value is None:
        if wanted and not schema.get("nullable"):
            causes.append(f'{path}: Invalid value: "null": {path} in body must be of type '
                          f'{wanted}: "null"')
        return
    if wanted and not schema.get("x-kubernetes-int-or-string") and not _matches(value, wanted):
        actual = type_name(value)
        causes.append(
            f'{path}: Invalid value: "{actual}": {path} in body must be of type {wanted}: '
            f'"{actual}"'
        )
        return
    if isinstance(value, dict):
        for required in schema.get("required") or []:
            if required not in value:
                causes.append(f"{path}.{required}: Required value")
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                _check(properties[key], item, f"{path}.{key}", causes)
            elif isinstance(additional, dict):
                _check(additional, item, f"{path}.{key}", causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{index}]", causes)


def unknown_fields(schema: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """Fields the schema does not declare (kubectl's default strict field validation)."""
    found: list[str] = []
    _unknown(schema, {k: v for k, v in obj.items() if k != "metadata"}, "", found)
    return found


def _unknown(schema: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        if properties is None and additional is None:
            return
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if properties and key in properties:
                _unknown(properties[key], item, child, found)
            elif isinstance(additional, dict):
                _unknown(additional, item, child, found)
            elif not additional:
                found.append(child)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _unknown(schema["items"], item, f"{path}[{index}]", found)
