"""Reading the demo org through the tools in tests: rows by their label, ids by name, every page of a search.

A row's label is how the demo data (`lava_crm_mcp/sandbox/demo_data.py`) names it: a contact's full name, a deal's
name without its account prefix, an invoice's or task's title, any other record's name or title.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
from call_results import ok
from mcp import Client
from pydantic import SecretStr
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN

MAX_PAGES = 30


def label(row: dict[str, Any]) -> str:
    if "primary_email" in row:
        return f"{row['first_name']} {row['last_name']}"
    if "invoice_title" in row:
        return str(row["invoice_title"])
    name = str(row.get("name") or row.get("title"))
    return name.split(" – ", 1)[1] if "pipeline" in row and " – " in name else name


def labels(page: dict[str, Any]) -> list[str]:
    return [label(row) for row in page["items"]]


async def search(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return ok(await client.call_tool(tool, arguments))


async def ids(client: Client, plural: str) -> dict[str, str]:
    """Label -> id of every record of a noun (the demo has fewer than 50 of each)."""
    page = await search(client, f"search_{plural}", limit=50)
    assert not page["has_more"]
    return {label(row): row["id"] for row in page["items"]}


def parse_call(call: str) -> tuple[str, dict[str, Any]]:
    """`search_deals(status='open', cursor='2')` -> ("search_deals", {"status": "open", "cursor": "2"})."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call), call
    assert isinstance(node.func, ast.Name), call
    assert not node.args, call
    return node.func.id, {str(item.arg): ast.literal_eval(item.value) for item in node.keywords}


async def every_page(client: Client, tool: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The first page of a search and each page its `next_call` leads to, until there is no more."""
    pages = [ok(await client.call_tool(tool, arguments))]
    while pages[-1]["next_call"]:
        assert pages[-1]["has_more"]
        assert len(pages) < MAX_PAGES, "the cursor does not advance"
        name, following = parse_call(pages[-1]["next_call"])
        assert name == tool
        pages.append(ok(await client.call_tool(name, following)))
    assert not pages[-1]["has_more"]
    return pages


@asynccontextmanager
async def dated_crm(sandbox: Starlette, today: dt.date) -> AsyncGenerator[CrmClient]:
    """A CRM client of the in-process sandbox whose clock says `today` (the sandbox is seeded for the same day)."""
    upstream = Upstream("http://sandbox.test", SecretStr(SANDBOX_TOKEN))
    transport = httpx.ASGITransport(app=sandbox)
    async with CrmClient(upstream, transport=transport, retry=RetryPolicy(max_attempts=1), clock=lambda: today) as crm:
        yield crm


@dataclass(frozen=True)
class IdOf:
    """An argument value standing for the id of the demo record of this noun with this label."""

    plural: str
    label: str


async def resolve(client: Client, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments with every `IdOf` (alone or in a list) replaced by the record's id."""
    known: dict[str, dict[str, str]] = {}

    async def one(value: Any) -> Any:
        if not isinstance(value, IdOf):
            return value
        known[value.plural] = known.get(value.plural) or await ids(client, value.plural)
        return known[value.plural][value.label]

    resolved: dict[str, Any] = {}
    for key, value in arguments.items():
        resolved[key] = (
            [await one(item) for item in cast(list[Any], value)] if isinstance(value, list) else await one(value)
        )
    return resolved
