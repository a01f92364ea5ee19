"""build_server(): the MCP server — lifespan, the policy-filtered tool loop, resources and prompts."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

from lava_crm_mcp import __version__
from lava_crm_mcp.context import AppState, bind_request
from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.policy import refusal
from lava_crm_mcp.prompts import register_prompts
from lava_crm_mcp.registry import sdk_tool
from lava_crm_mcp.resources import register_resources
from lava_crm_mcp.settings import Settings
from lava_crm_mcp.tools import TOOLS

__all__ = ["INSTRUCTIONS", "build_server"]

INSTRUCTIONS = """\
Lava CRM: contacts, accounts (companies), leads, deals, tasks, cases and invoices, plus deal pipelines.
Find ids with search_* (compact rows), then get_/update_/delete_ by id. Pass ids exactly as returned.
Deals sit on pipeline boards: start with get_pipeline_board (or the lava-crm://board resource).
Change a deal's stage only with move_deal_to_stage (stage id or name); add custom stages with add_stage.
Errors say what was wrong and what to call next."""


def _refuse_disabled(refused: dict[str, str]) -> Any:
    """Server middleware: a disabled tool is refused at dispatch too, with the reason, even if called by name."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        name = (ctx.params or {}).get("name") if ctx.method == "tools/call" else None
        if isinstance(name, str) and name in refused:
            return CallToolResult(content=[TextContent(type="text", text=refused[name])], is_error=True)
        return await call_next(ctx)

    return middleware


def build_server(settings: Settings, crm: CrmClient | None = None) -> MCPServer[AppState]:
    """A new server; it owns a CrmClient made from `settings` unless one is given (tests, --sandbox)."""
    passthrough = settings.auth_mode == "passthrough"

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncGenerator[AppState]:
        if crm is not None:
            yield AppState(crm, passthrough)
            return
        upstream = settings.upstream(anonymous=passthrough)
        async with CrmClient(upstream, timeout=settings.timeout, retry=settings.retry) as client:
            yield AppState(client, passthrough)

    refused = {tool.name: reason for tool in TOOLS if (reason := refusal(tool, settings.mode, settings.toolsets))}
    server = MCPServer[AppState](
        "lava-crm-mcp",
        title="Lava CRM",
        instructions=INSTRUCTIONS,
        version=__version__,
        tools=[sdk_tool(tool) for tool in TOOLS if tool.name not in refused],
        lifespan=lifespan,
        middleware=[bind_request, _refuse_disabled(refused)],
        log_level=settings.log_level,
    )
    register_resources(server)
    register_prompts(server)
    return server
