"""The inventory: every tool, in the order clients list them. Built from the noun table (`crm/resources.py`) and
the pipeline and workflow tools; importing it builds every tool's models (about 150 pydantic models)."""

from __future__ import annotations

from typing import Any

from lava_crm_mcp.crm.resources import ACCOUNTS, CASES, CONTACTS, INVOICES, LEADS, OPPORTUNITIES, TASKS
from lava_crm_mcp.tools._shared import ToolSpec
from lava_crm_mcp.tools.pipelines import PIPELINE_TOOLS
from lava_crm_mcp.tools.records import create_tool, delete_tool, get_tool, search_tool, update_tool
from lava_crm_mcp.tools.workflows import CONVERT_LEAD, LOG_ACTIVITY

__all__ = ["TOOLS"]

TOOLS: tuple[ToolSpec[Any], ...] = (
    search_tool("search_contacts", CONTACTS),
    get_tool("get_contact", CONTACTS),
    create_tool("create_contact", CONTACTS),
    update_tool("update_contact", CONTACTS),
    delete_tool("delete_contact", CONTACTS),
    search_tool("search_accounts", ACCOUNTS),
    get_tool("get_account", ACCOUNTS),
    create_tool("create_account", ACCOUNTS),
    update_tool("update_account", ACCOUNTS),
    delete_tool("delete_account", ACCOUNTS),
    search_tool("search_leads", LEADS),
    get_tool("get_lead", LEADS),
    create_tool("create_lead", LEADS),
    update_tool("update_lead", LEADS),
    delete_tool("delete_lead", LEADS),
    CONVERT_LEAD,
    search_tool("search_deals", OPPORTUNITIES),
    get_tool("get_deal", OPPORTUNITIES),
    create_tool("create_deal", OPPORTUNITIES),
    update_tool("update_deal", OPPORTUNITIES),
    delete_tool("delete_deal", OPPORTUNITIES),
    search_tool("search_tasks", TASKS),
    get_tool("get_task", TASKS),
    create_tool("create_task", TASKS),
    update_tool("update_task", TASKS),
    delete_tool("delete_task", TASKS),
    LOG_ACTIVITY,
    search_tool("search_cases", CASES),
    get_tool("get_case", CASES),
    create_tool("create_case", CASES),
    update_tool("update_case", CASES),
    delete_tool("delete_case", CASES),
    search_tool("search_invoices", INVOICES),
    get_tool("get_invoice", INVOICES),
    create_tool("create_invoice", INVOICES),
    update_tool("update_invoice", INVOICES),
    delete_tool("delete_invoice", INVOICES),
    *PIPELINE_TOOLS,
)
