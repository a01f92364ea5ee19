"""Paging that holds while the list changes, through search_contacts on the demo sandbox: a record created or deleted
between two pages never makes the next page repeat or skip a row silently."""

from __future__ import annotations

import re
from typing import Any

import pytest
from call_results import ok
from mcp import Client

pytestmark = pytest.mark.anyio


async def page(client: Client, arguments: dict[str, Any]) -> tuple[list[str], str | None, dict[str, Any]]:
    found = ok(await client.call_tool("search_contacts", arguments))
    cursor = re.search(r"cursor='([^']+)'", found["next_call"] or "")
    return [row["last_name"] for row in found["items"]], cursor.group(1) if cursor else None, found


async def every_name(client: Client) -> list[str]:
    found = ok(await client.call_tool("search_contacts", {"limit": 50}))
    return [row["last_name"] for row in found["items"]]


@pytest.mark.parametrize("first_name", ["Aaron", "Zoe"])
async def test_a_record_created_between_two_pages_neither_repeats_nor_hides_a_row(
    client: Client, first_name: str
) -> None:
    before = await every_name(client)
    first, cursor, _ = await page(client, {"limit": 5})
    ok(await client.call_tool("create_contact", {"first_name": first_name, "last_name": "Aaberg"}))

    second, _, _ = await page(client, {"limit": 5, "cursor": cursor})

    assert not set(first) & set(second)
    assert [name for name in before if name not in first][:5] == [name for name in second if name != "Aaberg"][:5]


async def test_a_record_deleted_above_the_page_end_skips_no_row(client: Client) -> None:
    before = await every_name(client)
    _, cursor, found = await page(client, {"limit": 5})
    gone = found["items"][1]["id"]
    preview = ok(await client.call_tool("delete_contact", {"contact_id": gone}))
    ok(await client.call_tool("delete_contact", {"contact_id": gone, "confirm": preview["confirm"]}))

    second, _, _ = await page(client, {"limit": 5, "cursor": cursor})

    assert second == before[5:10]


async def test_pages_across_slices_stay_whole_while_records_are_added(client: Client) -> None:
    before = await every_name(client)
    seen: list[str] = []
    cursor: str | None = None
    for number in range(4):
        names, cursor, _ = await page(client, {"limit": 7, **({"cursor": cursor} if cursor else {})})
        seen += names
        ok(await client.call_tool("create_contact", {"first_name": "Zq", "last_name": f"Added{number}"}))
        if cursor is None:
            break

    assert seen == before[: len(seen)]
    assert len(seen) == min(28, len(before))
