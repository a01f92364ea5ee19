"""A minimal peer for bench/compare.py: the SDK's `Server` (mcp 2.3) with two tools, each one plain httpx GET.

    python bench/peers/minimal_server.py stdio
    python bench/peers/minimal_server.py http --host 127.0.0.1 --port 8001   (stateless JSON at /mcp)

Reads LAVA_CRM_BASE_URL (a loopback sandbox) and LAVA_CRM_TOKEN. get_contact(contact_id) is GET
/api/contacts/<id>/; search_contacts(query) is GET /api/contacts/?search=<query>, first 20 rows. Each returns the
JSON as is (as structured content and as its compact text): no validation, no rendering, no retries.

It is built on the low-level `Server` because the project's import guard (tests/test_layers.py) admits only the
SDK names listed there in bench/ too, and `MCPServer` is not one of them; `--minimal-peer` of compare.py runs another.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import uvicorn
from _loopback import peer_args
from mcp import stdio_server, types
from mcp.server import Server, ServerRequestContext

ROWS = 20
TOOLS = [
    types.Tool(
        name="get_contact",
        description="Get a contact by id.",
        input_schema={
            "type": "object",
            "properties": {"contact_id": {"type": "string"}},
            "required": ["contact_id"],
        },
    ),
    types.Tool(
        name="search_contacts",
        description="Find contacts by name, email or phone; the first 20 rows.",
        input_schema={"type": "object", "properties": {"query": {"type": "string", "default": ""}}},
    ),
]
Context = ServerRequestContext[httpx.AsyncClient, Any]


async def list_tools(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
    arguments = params.arguments or {}
    http = ctx.lifespan_context
    if params.name == "get_contact":
        response = await http.get(f"/api/contacts/{arguments['contact_id']}/")
        response.raise_for_status()
        data = response.json()
    else:
        response = await http.get("/api/contacts/", params={"search": arguments.get("query", "")})
        response.raise_for_status()
        data = {"results": response.json()["results"][:ROWS]}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=data)


def build_server(base_url: str, token: str) -> Server[httpx.AsyncClient]:
    @asynccontextmanager
    async def lifespan(_: Server[httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as http:
            yield http

    return Server("minimal-crm", lifespan=lifespan, on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(server: Server[httpx.AsyncClient]) -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def main() -> None:
    args, base_url, token = peer_args(__doc__ or "", ["stdio", "http"], 8001)
    server = build_server(base_url, token)
    if args.transport == "stdio":
        anyio.run(serve_stdio, server)
    else:
        app = server.streamable_http_app(stateless_http=True, json_response=True, host=args.host)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
