"""The inventory: every tool, in the order clients list them. Each noun of the noun table (`crm/resources.py`) gets
its record tools, followed by the workflows that belong to it; then the pipeline tools. Importing it builds every
tool's models (about 150 pydantic models)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lava_crm_mcp.crm.resources import LEADS, RESOURCES, TASKS
from lava_crm_mcp.tools._shared import ToolSpec
from lava_crm_mcp.tools.pipelines import PIPELINE_TOOLS
from lava_crm_mcp.tools.records import record_tools
from lava_crm_mcp.tools.workflows import CONVERT_LEAD, LOG_ACTIVITY

__all__ = ["TOOLS"]

WORKFLOWS: Mapping[str, tuple[ToolSpec[Any], ...]] = {LEADS.path: (CONVERT_LEAD,), TASKS.path: (LOG_ACTIVITY,)}
"""Tools that are not one noun's record tools, listed after the noun they mostly concern."""

TOOLS: tuple[ToolSpec[Any], ...] = (
    *(tool for spec in RESOURCES for tool in (*record_tools(spec), *WORKFLOWS.get(spec.path, ()))),
    *PIPELINE_TOOLS,
)
