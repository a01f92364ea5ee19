"""Every string argument of every tool is bounded: a 100,000-character value is refused with a message naming the
argument, before any request reaches the CRM, and never lands in the "bug" catch-all."""

from __future__ import annotations

from typing import Any

import pytest
from call_results import text
from mcp import Client

from lava_crm_mcp.tools import TOOLS

pytestmark = pytest.mark.anyio

HUGE = "x" * 100_000


def string_arguments(schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """(argument, a huge value of its shape) for each string or list-of-strings argument."""
    found: list[tuple[str, Any]] = []
    for name, prop in schema.get("properties", {}).items():
        kinds = [prop, *prop.get("anyOf", [])]
        if any(kind.get("type") == "string" and "enum" not in kind for kind in kinds):
            found.append((name, HUGE))
        elif any(kind.get("type") == "array" and kind.get("items", {}).get("type") == "string" for kind in kinds):
            found.append((name, [HUGE]))
    return found


CASES = {tool.name: string_arguments(tool.args.model_json_schema()) for tool in TOOLS}


def test_every_tool_with_text_arguments_is_covered() -> None:
    assert sum(len(arguments) for arguments in CASES.values()) > 150
    assert all(CASES[name] for name in ("search_contacts", "create_task", "move_deal_to_stage", "add_stage"))


@pytest.mark.parametrize("tool", [name for name, arguments in CASES.items() if arguments])
async def test_a_huge_value_is_refused_naming_the_argument(client: Client, tool: str) -> None:
    for argument, value in CASES[tool]:
        result = await client.call_tool(tool, {argument: value})

        assert result.is_error, argument
        assert "a bug" not in text(result), argument
        assert argument in text(result)
        assert HUGE[:1000] not in text(result), argument
