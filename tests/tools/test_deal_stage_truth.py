"""The board is the one truth of a deal's stage: get_deal, search_deals and their filters follow move_deal_to_stage,
and the CRM's legacy `stage` enum (which the sandbox leaves stale, as the real CRM does) never shows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from call_results import ok, text
from demo_org import ids, search
from mcp import Client
from starlette.applications import Starlette

pytestmark = pytest.mark.anyio

LEGACY = ("PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST")
DEAL = "Platform expansion"  # Sales Pipeline, Prospecting


def assert_no_legacy_stage(*shown: object) -> None:
    everything = " ".join(json.dumps(item) if not isinstance(item, str) else item for item in shown)
    assert not [value for value in LEGACY if value in everything]


async def where(client: Client, deal_id: str) -> dict[str, Any]:
    """The deal as get_deal and its search_deals row show it, checked to agree; returns the record."""
    got = await client.call_tool("get_deal", {"deal_id": deal_id})
    rows = await client.call_tool("search_deals", {"query": DEAL})
    record, (row,) = ok(got)["record"], ok(rows)["items"]
    assert {key: row[key] for key in ("pipeline", "stage", "status")} == {
        key: record[key] for key in ("pipeline", "stage", "status")
    }
    assert not {"pipeline_stage", "is_closed"} & set(record)
    assert_no_legacy_stage(ok(got), text(got), ok(rows), text(rows))
    assert f"; stage={record['stage']['name']} ({record['stage']['id']}); status={record['status']}" in text(got)
    assert f" | {record['stage']['name']} | {record['status']} | " in text(rows)
    return record


async def move(client: Client, deal_id: str, stage: str) -> None:
    ok(await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": stage}))


async def board_ids(client: Client, stage_type: str) -> set[str]:
    """Ids of the deals in every column of this type, on every pipeline's board."""
    found: set[str] = set()
    for pipeline in ok(await client.call_tool("list_pipelines", {}))["pipelines"]:
        board = ok(await client.call_tool("get_pipeline_board", {"pipeline": pipeline["id"], "limit": 50}))
        found |= {
            deal["id"] for stage in board["stages"] if stage["stage_type"] == stage_type for deal in stage["deals"]
        }
    return found


async def found_ids(client: Client, **arguments: Any) -> set[str]:
    return {row["id"] for row in (await search(client, "search_deals", limit=50, **arguments))["items"]}


def legacy_stage(sandbox: Starlette, deal_id: str) -> str:
    """What the CRM's own (legacy) stage field says, read from the sandbox's store."""
    sql = "SELECT json_extract(data, '$.stage') FROM records WHERE id = ?"
    return sandbox.state.sandbox.conn.execute(sql, (deal_id,)).fetchone()[0]


async def test_a_moved_deal_shows_its_board_stage_everywhere_and_never_the_legacy_enum(
    client: Client, sandbox: Starlette
) -> None:
    deal_id = (await ids(client, "deals"))[DEAL]

    await move(client, deal_id, "Qualification")

    record = await where(client, deal_id)
    assert (record["pipeline"]["name"], record["stage"]["name"], record["status"]) == (
        "Sales Pipeline",
        "Qualification",
        "open",
    )
    assert legacy_stage(sandbox, deal_id) == "PROSPECTING"
    assert deal_id in await found_ids(client, pipeline="Sales Pipeline", stage="Qualification")
    assert deal_id not in await found_ids(client, pipeline="Sales Pipeline", stage="Prospecting")


async def test_a_deal_moved_to_won_is_won_and_found_as_won(client: Client) -> None:
    deal_id = (await ids(client, "deals"))[DEAL]

    await move(client, deal_id, "Won")

    record = await where(client, deal_id)
    assert (record["stage"]["name"], record["status"]) == ("Won", "won")
    assert deal_id in await found_ids(client, status="won")
    assert deal_id not in await found_ids(client, status="open")


async def test_a_reopened_deal_is_open_in_its_open_stage_although_the_legacy_field_says_won(
    client: Client, sandbox: Starlette
) -> None:
    deal_id = (await ids(client, "deals"))[DEAL]
    await move(client, deal_id, "Won")

    await move(client, deal_id, "Negotiation")

    assert legacy_stage(sandbox, deal_id) == "CLOSED_WON"
    record = await where(client, deal_id)
    assert (record["stage"]["name"], record["status"]) == ("Negotiation", "open")
    assert deal_id in await found_ids(client, status="open")
    assert deal_id not in await found_ids(client, status="won") | await found_ids(client, stage="Won")
    assert deal_id in await found_ids(client, stage="Negotiation")


@pytest.mark.parametrize("moved", [False, True], ids=["seeded", "after-moves"])
async def test_status_and_stage_filters_agree_with_the_boards(client: Client, moved: bool) -> None:
    deals = await ids(client, "deals")
    if moved:
        await move(client, deals[DEAL], "Won")
        await move(client, deals["Audit archive"], "Proposal")  # a lost deal reopened
        await move(client, deals["Referral agreement"], "Lost")  # on the Partnerships board

    for status in ("open", "won", "lost"):
        on_boards = await board_ids(client, status)
        assert await found_ids(client, status=status) == on_boards, status
        assert on_boards
    assert await found_ids(client, stage="Won") == await board_ids(client, "won")
    assert await found_ids(client, stage="Lost") == await board_ids(client, "lost")
