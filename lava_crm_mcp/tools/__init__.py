"""The MCP tool surface: one flat inventory of every tool (`inventory.py`), each named literally, with its tier and
toolset.

The record tools are built from the noun table (`crm/resources.py`); the pipeline tools are plain functions in
`tools/pipelines.py`. Nothing here knows the MCP protocol: `server.py` serves this inventory. The names below are
loaded on first use, so that a light submodule (`tiers`) can be imported without building every tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lava_crm_mcp.lazy import lazy_names

if TYPE_CHECKING:
    from lava_crm_mcp.tools._shared import ToolArgs, ToolFailure, ToolSpec, translate
    from lava_crm_mcp.tools.inventory import TOOLS
    from lava_crm_mcp.tools.render import Result
    from lava_crm_mcp.tools.tiers import DESTRUCTIVE, READ, WRITE, Tier

__all__ = [
    "DESTRUCTIVE",
    "READ",
    "TOOLS",
    "WRITE",
    "Result",
    "Tier",
    "ToolArgs",
    "ToolFailure",
    "ToolSpec",
    "translate",
]

_HOMES = {
    "TOOLS": "inventory",
    "Result": "render",
    **dict.fromkeys(("DESTRUCTIVE", "READ", "WRITE", "Tier"), "tiers"),
    **dict.fromkeys(("ToolArgs", "ToolFailure", "ToolSpec", "translate"), "_shared"),
}

__getattr__ = lazy_names(__name__, _HOMES, globals())
