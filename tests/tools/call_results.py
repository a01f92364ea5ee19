"""Reading tool results in tests: the text, a success's structured content, a failure's message."""

from __future__ import annotations

from typing import Any

from mcp import Client
from mcp.types import CallToolResult


def text(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


def failed(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return text(result)


async def confirmed(client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    """A destructive tool's two calls: the preview (which deletes nothing), then the delete with its token."""
    preview = await client.call_tool(tool, arguments)
    token = ok(preview).get("confirm")
    assert token, text(preview)
    return await client.call_tool(tool, {**arguments, "confirm": token})
