"""The inventory: every tool, in the order clients list them. Each noun of the noun table (`crm/resources.py`) gets
its record tools, followed by the workflows that belong to it; then the pipeline tools. Importing it builds every
tool's models (about 150 pydantic models)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lava_crm_mcp.crm.resources import ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES, RESOURCES, TASKS
from lava_crm_mcp.tools._shared import ToolSpec
from lava_crm_mcp.tools.across import GET_RECORDS, SEARCH_CRM
from lava_crm_mcp.tools.batches import MOVE_DEALS, UPDATE_TASKS
from lava_crm_mcp.tools.conversion import CONVERT_LEAD
from lava_crm_mcp.tools.merges import FIND_DUPLICATES, MERGE_ACCOUNTS, MERGE_CONTACTS
from lava_crm_mcp.tools.pipelines import PIPELINE_TOOLS
from lava_crm_mcp.tools.records import record_tools
from lava_crm_mcp.tools.sync import SYNC_ACCOUNTS, SYNC_CONTACTS
from lava_crm_mcp.tools.texts import READ_DESCRIPTION
from lava_crm_mcp.tools.workflows import LOG_ACTIVITY

__all__ = ["TOOLS"]

ACROSS: tuple[ToolSpec[Any], ...] = (SEARCH_CRM, GET_RECORDS, READ_DESCRIPTION, FIND_DUPLICATES)
"""Tools over every noun at once, listed first."""
WORKFLOWS: Mapping[str, tuple[ToolSpec[Any], ...]] = {
    CONTACTS.path: (SYNC_CONTACTS, MERGE_CONTACTS),
    ACCOUNTS.path: (SYNC_ACCOUNTS, MERGE_ACCOUNTS),
    LEADS.path: (CONVERT_LEAD,),
    OPPORTUNITIES.path: (MOVE_DEALS,),
    TASKS.path: (LOG_ACTIVITY, UPDATE_TASKS),
}
"""Tools that are not one noun's record tools, listed after the noun they mostly concern."""

TOOLS: tuple[ToolSpec[Any], ...] = (
    *ACROSS,
    *(tool for spec in RESOURCES for tool in (*record_tools(spec), *WORKFLOWS.get(spec.path, ()))),
    *PIPELINE_TOOLS,
)
