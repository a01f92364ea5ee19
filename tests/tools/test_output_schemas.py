"""Output schemas are pydantic's, made lean for the clients that check every result: same meaning, no `$ref` to
resolve, nullable scalars as type lists."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from lava_crm_mcp.dispatch import sdk_tool
from lava_crm_mcp.tools import TOOLS
from lava_crm_mcp.tools.schema import OutputSchema

NULL = {"type": "null"}


class Ref(BaseModel):
    """A link."""

    id: str
    name: str | None = None


class Row(BaseModel):
    title: str | None = None
    status: Literal["open", "won"] | None = None
    account: Ref | None = None
    contacts: list[Ref] = []
    amount: int | None = None


class Nested(BaseModel):
    child: Nested | None = None


def lean(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization", schema_generator=OutputSchema)


def test_references_are_inlined_and_nullable_scalars_are_type_lists() -> None:
    schema = lean(Row)
    assert "$defs" not in schema
    assert "$ref" not in json.dumps(schema)
    fields = schema["properties"]
    assert fields["title"] == {"type": ["string", "null"]}
    assert fields["account"]["type"] == ["object", "null"]
    assert fields["account"]["required"] == ["id"]
    assert fields["contacts"]["items"]["properties"]["name"] == {"type": ["string", "null"]}
    assert "title" in fields  # a field called "title" is kept; the title annotations are not
    assert "title" not in schema
    assert "default" not in fields["amount"]


def test_a_nullable_enum_stays_an_any_of_so_null_is_still_valid() -> None:
    assert lean(Row)["properties"]["status"] == {"anyOf": [{"enum": ["open", "won"], "type": "string"}, NULL]}


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ({"title": None, "status": None, "account": None, "amount": None}, True),
        ({"title": "x", "status": "won", "account": {"id": "1", "name": None}, "contacts": [{"id": "2"}]}, True),
        ({"status": "lost"}, False),
        ({"account": {"name": "no id"}}, False),
        ({"amount": "12"}, False),
        ({"contacts": [None]}, False),
    ],
)
def test_the_lean_schema_accepts_and_refuses_what_pydantics_does(value: dict[str, Any], valid: bool) -> None:
    full = Draft202012Validator(Row.model_json_schema(mode="serialization"))
    assert full.is_valid(value) is valid
    assert Draft202012Validator(lean(Row)).is_valid(value) is valid


def test_a_recursive_model_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="refers to itself"):
        lean(Nested)


@pytest.mark.parametrize("spec", TOOLS, ids=lambda spec: spec.name)
def test_every_tool_output_schema_is_valid_and_has_no_reference(spec: Any) -> None:
    schema = sdk_tool(spec).output_schema
    assert schema is not None
    Draft202012Validator.check_schema(schema)
    assert "$ref" not in json.dumps(schema)
