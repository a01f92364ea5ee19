"""A minimal peer for bench/compare.py: the SDK's `Server` (mcp 2.3) whose tools are plain httpx GETs.

    python bench/peers/minimal_server.py stdio
    python bench/peers/minimal_server.py http --host 127.0.0.1 --port 8001   (stateless JSON at /mcp)

Reads LAVA_CRM_BASE_URL (a loopback sandbox) and LAVA_CRM_TOKEN. Each tool returns the JSON as is (as structured
content and as its compact text): no validation, no rendering, no retries.
  get_contact(contact_id)          GET /api/contacts/<id>/
  search_contacts(query)           GET /api/contacts/?search=<query>, first 20 rows
  get_record(resource, id)         GET /api/<resource>/<id>/
  list_records(resource, filters)  GET /api/<resource>/?<filters>, first 20 rows
  floor_get_<noun>(id)             the same-work floor: the same upstream reads as our get_<noun> (the record and
                                   its related lists, side by side), returned as one JSON object
get_contact and search_contacts are the minimal peer of compare.py; floor_get_* its same-work floor; get_record and
list_records what an agent calls to answer the per-question table without related lists.

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
LIMIT = {"limit": str(ROWS)}
Object = dict[str, Any]
# What our get_<noun> reads, side by side (seen on the sandbox's log): the record, then each related list as
# (resource, the filter naming the record, further filters), first page.
FLOOR: dict[str, tuple[str, list[tuple[str, str, dict[str, str]]]]] = {
    "contact": ("contacts", [("opportunities", "contacts", {}), ("tasks", "contacts", {})]),
    "account": (
        "accounts",
        [
            ("contacts", "account", {}),
            ("opportunities", "account", {"open": "true"}),
            ("tasks", "account", {}),
            ("cases", "account", {"status__in": "New,Assigned,Pending"}),
        ],
    ),
    "deal": ("opportunities", [("tasks", "opportunity", {})]),
}


def _tool(name: str, description: str, properties: Object, required: list[str]) -> types.Tool:
    schema = {"type": "object", "properties": properties, "required": required}
    return types.Tool(name=name, description=description, input_schema=schema)


STRING = {"type": "string"}
TOOLS = [
    _tool("get_contact", "Get a contact by id.", {"contact_id": STRING}, ["contact_id"]),
    _tool(
        "search_contacts",
        "Find contacts by name, email or phone; the first 20 rows.",
        {"query": {"type": "string", "default": ""}},
        [],
    ),
    _tool(
        "get_record",
        "Get a record of a resource (contacts, opportunities, ...) by id.",
        {"resource": STRING, "id": STRING},
        ["resource", "id"],
    ),
    _tool(
        "list_records",
        "List records of a resource, newest first, filtered by the CRM's query parameters; the first 20 rows.",
        {"resource": STRING, "filters": {"type": "object", "additionalProperties": {"type": "string"}}},
        ["resource"],
    ),
    *(_tool(f"floor_get_{noun}", f"Get a {noun} with its related lists.", {"id": STRING}, ["id"]) for noun in FLOOR),
]
Context = ServerRequestContext[httpx.AsyncClient, Any]


async def list_tools(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def _get(http: httpx.AsyncClient, path: str, params: dict[str, str] | None = None) -> Any:
    response = await http.get(path, params=params)
    response.raise_for_status()
    return response.json()


async def _rows(http: httpx.AsyncClient, resource: str, params: dict[str, str]) -> list[Any]:
    return (await _get(http, f"/api/{resource}/", {**LIMIT, **params}))["results"][:ROWS]


async def _floor(http: httpx.AsyncClient, noun: str, record_id: str) -> Object:
    """The record and its related lists, read side by side."""
    resource, lists = FLOOR[noun]
    found: Object = {}

    async def one(key: str, read: Any) -> None:
        found[key] = await read

    async with anyio.create_task_group() as group:
        group.start_soon(one, noun, _get(http, f"/api/{resource}/{record_id}/"))
        for related, via, more in lists:
            group.start_soon(one, f"{related} ({via})", _rows(http, related, {via: record_id, **more}))
    return found


async def _answer(http: httpx.AsyncClient, name: str, arguments: Object) -> Any:
    if name == "get_contact":
        return await _get(http, f"/api/contacts/{arguments['contact_id']}/")
    if name == "search_contacts":
        return {"results": await _rows(http, "contacts", {"search": arguments.get("query", "")})}
    if name == "get_record":
        return await _get(http, f"/api/{arguments['resource']}/{arguments['id']}/")
    if name == "list_records":
        return {"results": await _rows(http, arguments["resource"], dict(arguments.get("filters") or {}))}
    return await _floor(http, name.removeprefix("floor_get_"), arguments["id"])


async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
    data = await _answer(ctx.lifespan_context, params.name, params.arguments or {})
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
