"""Output schemas in the form clients check fastest: pydantic's schema of a result model, with its `$ref`s inlined,
`X | None` written as a type list (`"type": ["string", "null"]`) where that means the same, and no titles, defaults
or descriptions of inlined models (annotations no validator reads).

Clients check every structured result against its tool's output schema (the Python SDK with `jsonschema`, the
TypeScript SDK with Ajv). For a 20-row search, resolving references and trying `anyOf` branches field by field was
half of the Python client's checking time (1.7 ms of a call's 5.5 ms added latency, `bench/compare.py`).
"""

from __future__ import annotations

from typing import Any, cast

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

__all__ = ["OutputSchema"]

NULL = {"type": "null"}
ANNOTATIONS = frozenset({"title", "default"})
# Keywords that constrain values of every type: `X | None` stays an `anyOf` when X uses one (null would fail them).
ANY_TYPE = frozenset({"enum", "const", "anyOf", "allOf", "oneOf", "not", "$ref", "if"})


class OutputSchema(GenerateJsonSchema):
    """pydantic's JSON schema generator, with the result made lean (see the module's text)."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        generated = super().generate(schema, mode)
        definitions = cast(dict[str, Any], generated.pop("$defs", {}))
        return cast(JsonSchemaValue, _lean(generated, definitions, ()))


def _lean(node: Any, definitions: dict[str, Any], expanding: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_lean(item, definitions, expanding) for item in cast(list[Any], node)]
    if not isinstance(node, dict):
        return node
    schema = cast(dict[str, Any], node)
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        if name in expanding:
            raise ValueError(f"{name} refers to itself; a recursive result model cannot be inlined")
        shared = {key: value for key, value in definitions[name].items() if key != "description"}
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        schema, expanding = {**shared, **siblings}, (*expanding, name)
    lean: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":  # a mapping of field names (a field may be called "title")
            fields = cast(dict[str, Any], value)
            lean[key] = {field: _lean(sub, definitions, expanding) for field, sub in fields.items()}
        elif key not in ANNOTATIONS:
            lean[key] = _lean(value, definitions, expanding)
    return _nullable(lean)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`{"anyOf": [X, {"type": "null"}]}` as X with `"null"` added to its type, when X has one type and no keyword
    that would also apply to null."""
    options = schema.get("anyOf")
    if not (isinstance(options, list) and len(cast(list[Any], options)) == 2 and NULL in options):
        return schema
    other = cast(dict[str, Any], next(option for option in cast(list[Any], options) if option != NULL))
    if not isinstance(other.get("type"), str) or other.keys() & ANY_TYPE:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**other, **rest, "type": [other["type"], "null"]}
