"""The tools over the sandbox's `django-crm` dialect (limit/offset paging that ignores `page`, sectioned accounts,
a `columns`/`items` kanban, the other generation's field names, two odd probabilities in the demo data): every
answer as complete and as honest as over the `drf` dialect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from call_results import ok, text
from demo_org import every_page
from mcp import Client
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio

ODD_DEAL = "Lamarr Wireless – Co-marketing programme"


@pytest.fixture
def sandbox() -> Iterator[Starlette]:
    app = create_app(seed="demo", dialect="django-crm")
    yield app
    app.state.sandbox.close()


@pytest.mark.parametrize(("tool", "total"), [("search_contacts", 25), ("search_accounts", 8), ("search_invoices", 6)])
async def test_following_next_call_lists_every_record_once(client: Client, tool: str, total: int) -> None:
    pages = await every_page(client, tool, {"limit": 3})

    ids = [row["id"] for page in pages for row in page["items"]]
    assert len(ids) == len(set(ids)) == total
    assert pages[0]["total"] == total


async def test_rows_read_the_other_generations_field_names(client: Client) -> None:
    rows = ok(await client.call_tool("search_contacts", {"query": "Easley"}))["items"]

    assert [row["primary_email"] for row in rows] == ["annie.easley@example.org"]


async def test_a_value_the_crm_sends_in_an_odd_form_is_left_blank_and_named_in_the_note(client: Client) -> None:
    page = ok(await client.call_tool("search_deals", {"query": "Co-marketing"}))
    (row,) = page["items"]
    got = await client.call_tool("get_deal", {"deal_id": row["id"]})

    assert row["name"] == ODD_DEAL
    assert "probability left blank: the CRM sent 25.5, which is not a valid probability" in page["note"]
    assert ok(got)["record"]["probability"] is None
    assert "(probability left blank: the CRM sent 25.5, which is not a valid probability)" in text(got)


async def test_the_kanban_board_reads_and_a_deal_moves_on_it_by_stage_name(client: Client) -> None:
    board = ok(await client.call_tool("get_pipeline_board", {}))
    (deal,) = ok(await client.call_tool("search_deals", {"query": "Co-marketing"}))["items"]

    moved = await client.call_tool("move_deal_to_stage", {"deal_id": deal["id"], "stage": "Negotiation"})
    after = ok(await client.call_tool("get_pipeline_board", {"pipeline": "Partnerships", "stage": "Negotiation"}))

    assert board["deal_count"] == sum(stage["deal_count"] for stage in board["stages"]) > 0
    assert (ok(moved)["pipeline"]["name"], ok(moved)["from_stage"], ok(moved)["to_stage"]) == (
        "Partnerships",
        "Contacted",
        "Negotiation",
    )
    assert deal["id"] in [card["id"] for stage in after["stages"] for card in stage["deals"]]


async def test_kanban_cards_that_carry_a_probability_but_no_update_date_still_say_how_long_each_deal_is_idle(
    client: Client,
) -> None:
    rows = ok(await client.call_tool("search_deals", {"status": "open", "limit": 50}))["items"]
    updated = {row["id"]: row["updated_at"][:10] for row in rows}

    board = ok(await client.call_tool("get_pipeline_board", {}))

    cards = [card for stage in board["stages"] if stage["stage_type"] == "open" for card in stage["deals"]]
    assert cards
    assert all(card["updated"] == updated[card["id"]] and card["idle_days"] is not None for card in cards)


async def test_add_stage_without_a_pipeline_lands_on_the_default_board(client: Client) -> None:
    added = ok(await client.call_tool("add_stage", {"name": "Demo booked"}))["stage"]

    board = ok(await client.call_tool("get_pipeline_board", {}))
    assert added["id"] in [stage["id"] for stage in board["stages"]]
