"""The MCP tool surface: one flat inventory of every tool, with its tier and toolset."""

from __future__ import annotations

from lava_crm_mcp.tools._shared import DESTRUCTIVE, READ, WRITE, Tier, ToolSpec, translate
from lava_crm_mcp.tools.pipelines import PIPELINE_TOOLS
from lava_crm_mcp.tools.records import NOUNS, record_tools
from lava_crm_mcp.tools.render import Result, to_call_result

__all__ = ["DESTRUCTIVE", "READ", "TOOLS", "WRITE", "Result", "Tier", "ToolSpec", "to_call_result", "translate"]

TOOLS: tuple[ToolSpec, ...] = (
    *(tool for noun in NOUNS for tool in record_tools(noun)),
    *PIPELINE_TOOLS,
)
