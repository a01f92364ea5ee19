"""Bounded results: long text is cut in both the structured content and the text, and the record says what was cut;
rows cut long values; a page of 50 rows stays within about 8k tokens (24,000 characters) however wide the records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from call_results import ok, text
from mcp import Client
from tool_clients import Connect, crm_client

pytestmark = pytest.mark.anyio

LONG = ("Call notes, week 23. " * 250)[:5_000]
SHOWN = LONG[:1_999] + "…"


def cut_note(record_id: str) -> str:
    return f"description cut at 2,000 of 5,000 characters; whole: read_description(record_id='{record_id}')"


WIDE = "Wide" * 63  # 252 characters: the CRM takes names of up to 255
MINIMAL = {
    "contact": {"first_name": "Ada", "last_name": "Byron"},
    "account": {"name": "Byron & Co"},
    "lead": {"title": "Byron inbound"},
    "deal": {"name": "Byron expansion"},
    "task": {"title": "Call Ada"},
    "case": {"name": "Byron outage"},
    "invoice": {"invoice_title": "Byron licence"},
}
OWN_NAMES = [
    ("contact", "first_name"),
    ("account", "name"),
    ("lead", "title"),
    ("deal", "name"),
    ("task", "title"),
    ("case", "name"),
    ("invoice", "invoice_title"),
]


def wide(n: int) -> str:
    return f"{n:03}{WIDE}"


async def create(client: Client, noun: str, **body: Any) -> dict[str, Any]:
    return ok(await client.call_tool(f"create_{noun}", body))["record"]


@pytest.mark.parametrize("noun", MINIMAL)
async def test_get_cuts_a_long_description_at_2000_characters_and_says_so(client: Client, noun: str) -> None:
    made = await create(client, noun, **MINIMAL[noun], description=LONG)

    result = await client.call_tool(f"get_{noun}", {f"{noun}_id": made["id"]})

    got = ok(result)
    assert got["record"]["description"] == SHOWN
    assert got["notes"] == [cut_note(made["id"])]
    assert f"; description={json.dumps(SHOWN, ensure_ascii=False)};" in text(result)
    assert f"({cut_note(made['id'])})" in text(result).splitlines()
    assert LONG[:2_000] not in text(result) + json.dumps(got, ensure_ascii=False)


@pytest.mark.parametrize("noun", ["contact", "deal", "task"])
async def test_update_returns_the_record_cut_the_same_way(client: Client, noun: str) -> None:
    made = await create(client, noun, **MINIMAL[noun])

    result = await client.call_tool(f"update_{noun}", {f"{noun}_id": made["id"], "description": LONG})

    assert (ok(result)["record"]["description"], ok(result)["notes"]) == (SHOWN, [cut_note(made["id"])])
    assert f"({cut_note(made['id'])})" in text(result).splitlines()


async def test_create_says_when_it_cut_the_description_it_returns(client: Client) -> None:
    result = await client.call_tool("create_deal", {"name": "Byron expansion", "description": LONG})

    assert ok(result)["record"]["description"] == SHOWN
    assert f"({cut_note(ok(result)['record']['id'])})" in text(result).splitlines()


@pytest.mark.parametrize(("noun", "field"), OWN_NAMES)
async def test_rows_cut_a_long_name_to_80_characters(client: Client, noun: str, field: str) -> None:
    made = await create(client, noun, **(MINIMAL[noun] | {field: wide(1)}))

    result = await client.call_tool(f"search_{noun}s", {"query": wide(1)[:20]})

    (row,) = ok(result)["items"]
    assert (row["id"], row[field]) == (made["id"], wide(1)[:79] + "…")
    assert f" | {row[field]}" in text(result)
    assert wide(1)[:80] not in text(result)


@pytest.mark.parametrize(("noun", "link"), [("contact", "account"), ("deal", "account"), ("invoice", "account")])
async def test_rows_cut_a_long_linked_name_too(client: Client, noun: str, link: str) -> None:
    account = await create(client, "account", name=wide(0))
    await create(client, noun, **MINIMAL[noun], account=account["id"])

    result = await client.call_tool(f"search_{noun}s", {"account_id": account["id"]})

    assert ok(result)["items"][0][link]["name"] == wide(0)[:79] + "…"
    assert wide(0)[:80] not in text(result)


def email(n: int) -> str:
    return f"{'x' * 60}{n:02}@{'y' * 63}.{'z' * 63}.{'w' * 50}.com"


WIDEST: dict[str, Callable[[int, dict[str, str]], dict[str, Any]]] = {
    "contacts": lambda n, to: {
        "first_name": wide(n),
        "last_name": WIDE,
        "title": WIDE,
        "primary_email": email(n),
        "account": to["account"],
    },
    "accounts": lambda n, to: {"name": wide(n), "industry": "TELECOMMUNICATIONS"},
    "leads": lambda n, to: {
        "title": wide(n),
        "first_name": WIDE,
        "last_name": WIDE,
        "account_name": WIDE,
        "status": "in process",
        "source": "existing customer",
    },
    "deals": lambda n, to: {
        "name": wide(n),
        "account": to["account"],
        "amount": "9999999999.99",
        "currency": "USD",
        "closed_on": "2025-06-30",
    },
    "tasks": lambda n, to: {
        "title": wide(n),
        "opportunity": to["deal"],
        "due_date": "2025-06-30",
        "status": "In Progress",
    },
    "cases": lambda n, to: {"name": wide(n), "account": to["account"], "priority": "Urgent"},
    "invoices": lambda n, to: {
        "invoice_title": wide(n),
        "account": to["account"],
        "amount": "9999999999.99",
        "currency": "USD",
        "due_date": "2025-06-30",
        "status": "Cancelled",
    },
}


@pytest.mark.parametrize("plural", list(WIDEST))
async def test_a_page_of_50_of_the_widest_records_stays_under_24000_characters(client: Client, plural: str) -> None:
    account = await create(client, "account", name=f"A{WIDE}")
    linked = {"account": account["id"], "deal": (await create(client, "deal", name=f"D{WIDE}"))["id"]}
    for n in range(50):
        await create(client, plural.removesuffix("s"), **WIDEST[plural](n, linked), description=LONG)

    result = await client.call_tool(f"search_{plural}", {"query": "wide", "limit": 50})

    assert len(ok(result)["items"]) == 50
    assert len(text(result)) < 24_000


async def test_a_record_with_megabytes_of_text_gives_a_bounded_result(connect: Connect) -> None:
    huge = "y" * 2_000_000  # 6 MB in all: under the 8 MB cap on answers
    contact = {"id": "c-1", "first_name": huge, "last_name": "K", "description": huge, "unknown_blob": huge}

    def crm(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/c-1/"):
            return httpx.Response(200, json=contact)
        return httpx.Response(200, json={"count": 0, "next": None, "results": []})

    async with crm_client(httpx.MockTransport(crm)) as crm_api, connect(crm=crm_api) as client:
        result = await client.call_tool("get_contact", {"contact_id": "c-1"})

    assert not result.is_error
    assert len(text(result)) < 5_000
    assert len(json.dumps(result.structured_content)) < 5_000
