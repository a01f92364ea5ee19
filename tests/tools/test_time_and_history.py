"""Time and history through the tools, on the demo sandbox: the timeline a move leaves (who, when, why), the two
close dates of a deal, stalled records found in one call, when a task was completed, the weighted forecast, and
null that clears a field. Every date is computed when the test runs, from the server's own "today"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from call_results import failed, ok, text
from demo_org import ids, labels
from mcp import Client
from starlette.applications import Starlette
from tool_clients import Connect, crm_client

from lava_crm_mcp.settings import Settings

pytestmark = pytest.mark.anyio


async def today(client: Client) -> dt.date:
    """The server's today (search_tasks states it), so a test never disagrees with the server at midnight."""
    return dt.date.fromisoformat(ok(await client.call_tool("search_tasks", {"limit": 1}))["today"])


async def deal_id(client: Client, label: str) -> str:
    return (await ids(client, "deals"))[label]


async def get_deal(client: Client, ident: str) -> dict[str, Any]:
    return ok(await client.call_tool("get_deal", {"deal_id": ident}))


async def test_a_move_with_a_reason_is_in_the_deals_timeline_with_who_and_when(connect: Connect) -> None:
    async with connect(Settings(local_user="ada.lovelace")) as client:
        ident = await deal_id(client, "Risk dashboards")
        moved = ok(
            await client.call_tool("move_deal_to_stage", {"deal_id": ident, "stage": "Lost", "reason": "No budget"})
        )
        got = await get_deal(client, ident)
        shown = text(await client.call_tool("get_deal", {"deal_id": ident}))
        listed = ok(await client.call_tool("search_tasks", {"kind": "timeline"}))["items"]
        day = await today(client)

    (entry,) = got["related"]["timeline"]["items"]
    assert moved["notes"] == []
    assert entry["by"] == "ada.lovelace via local"
    assert entry["what"] == "Stage Qualification → Lost: closed lost"
    assert entry["reason"] == "No budget"
    assert entry["details"]["pipeline"] == "Sales Pipeline"
    assert entry["at"].startswith(day.isoformat())
    assert (got["last_activity"], got["in_stage_since"]) == (day.isoformat(), day.isoformat())
    assert "Stage Qualification → Lost: closed lost; by ada.lovelace via local; reason: No budget" in shown
    # a list of entries says why too: "lost this week, and why" is one call
    assert [row["title"] for row in listed] == [
        "[Timeline] Stage Qualification → Lost: closed lost (by ada.lovelace): No budget"
    ]


async def test_winning_sets_the_actual_close_keeps_the_expected_one_and_reopening_restores_it(client: Client) -> None:
    ident, day = await deal_id(client, "Reporting suite"), await today(client)
    expected = (day - dt.timedelta(days=17)).isoformat()
    ok(await client.call_tool("update_deal", {"deal_id": ident, "closed_on": expected}))

    won = ok(await client.call_tool("move_deal_to_stage", {"deal_id": ident, "stage": "Won"}))
    after_win = (await get_deal(client, ident))["record"]
    recent = ok(await client.call_tool("search_deals", {"closed_from": (day - dt.timedelta(days=7)).isoformat()}))
    reopened = ok(await client.call_tool("move_deal_to_stage", {"deal_id": ident, "stage": "Negotiation"}))
    after_reopen = (await get_deal(client, ident))["record"]

    assert (won["closed_on"], won["expected_close"]) == (day.isoformat(), expected)
    assert (after_win["status"], after_win["closed_on"], after_win["expected_close"]) == ("won", day.isoformat(), None)
    assert labels(recent) == ["Reporting suite"]  # won today, although its expected date was 17 days ago
    assert (reopened["closed_on"], reopened["expected_close"]) == (None, expected)
    assert (after_reopen["status"], after_reopen["closed_on"], after_reopen["expected_close"]) == (
        "open",
        None,
        expected,
    )


async def test_reopening_a_deal_that_had_no_expected_date_clears_the_close_date(client: Client) -> None:
    ident = await deal_id(client, "Team licences")
    ok(await client.call_tool("move_deal_to_stage", {"deal_id": ident, "stage": "Won"}))
    ok(await client.call_tool("move_deal_to_stage", {"deal_id": ident, "stage": "Proposal"}))

    record = (await get_deal(client, ident))["record"]

    assert (record["status"], record["closed_on"], record["expected_close"]) == ("open", None, None)


async def test_open_deals_without_an_expected_date_are_asked_for_and_dated_filters_say_they_leave_them_out(
    client: Client,
) -> None:
    ident, day = await deal_id(client, "Lab data pipeline"), await today(client)
    ok(
        await client.call_tool(
            "update_deal", {"deal_id": ident, "closed_on": (day + dt.timedelta(days=30)).isoformat()}
        )
    )

    undated = ok(await client.call_tool("search_deals", {"no_expected_close": True}))
    dated = ok(await client.call_tool("search_deals", {"expected_close_from": day.isoformat()}))

    assert "Lab data pipeline" not in labels(undated)
    assert {"Platform expansion", "Route optimisation", "Referral agreement"} <= set(labels(undated))
    assert all(row["status"] == "open" and row["expected_close"] is None for row in undated["items"])
    assert labels(dated) == ["Lab data pipeline"]
    assert "no_expected_close=true lists them" in dated["note"]


async def test_stalled_deals_are_found_in_one_call_by_activity_and_by_update(client: Client) -> None:
    deals = await ids(client, "deals")
    fresh = ok(await client.call_tool("create_deal", {"name": "Zq fresh deal", "amount": "100.00"}))["record"]["id"]
    ok(
        await client.call_tool(
            "log_activity", {"kind": "call", "subject": "Check-in", "deal_id": deals["Team licences"]}
        )
    )

    stalled = ok(await client.call_tool("search_deals", {"status": "open", "no_activity_since": 14, "limit": 50}))
    stale = ok(await client.call_tool("search_deals", {"status": "open", "updated_before": 14, "limit": 50}))
    by_activity = ok(await client.call_tool("search_deals", {"status": "open", "sort": "last_activity_desc"}))

    assert "Team licences" not in labels(stalled)
    assert {"Platform expansion", "Risk dashboards", "Zq fresh deal"} <= set(labels(stalled))
    assert "Zq fresh deal" not in labels(stale)  # created today
    assert fresh not in [row["id"] for row in stale["items"]]
    assert "Team licences" in labels(stale)  # an activity is not an update of the deal
    assert by_activity["items"][0]["id"] == deals["Team licences"]
    assert by_activity["items"][0]["last_activity"] == (await today(client)).isoformat()
    assert "last_activity from all 1 activities and timeline entries" in by_activity["note"]


async def test_a_task_completed_today_is_found_by_completion_date_even_when_it_was_due_last_week(
    client: Client,
) -> None:
    day = await today(client)
    task = ok(
        await client.call_tool(
            "create_task", {"title": "Zq send contract", "due_date": (day - dt.timedelta(days=7)).isoformat()}
        )
    )["record"]["id"]
    done = ok(await client.call_tool("update_task", {"task_id": task, "status": "Completed"}))["record"]
    account = (await ids(client, "accounts"))["Curie Biolabs"]
    ok(await client.call_tool("log_activity", {"kind": "note", "subject": "Zq note", "account_id": account}))

    this_week = ok(await client.call_tool("search_tasks", {"completed_from": day.isoformat()}))

    assert done["completed_on"] == day.isoformat()
    assert done["description"] is None  # the completion line is not shown as text
    assert labels(this_week) == ["Zq send contract"]  # neither the logged note nor tasks completed before today
    assert "completed_from checked here, not by the CRM" in this_week["note"]  # the CRM knows no completion day
    assert "did not apply" not in this_week["note"]  # its Completed tasks of other days are no sign it ignored one


async def test_reopening_a_task_removes_its_completion_and_keeps_what_a_person_wrote(client: Client) -> None:
    task = ok(await client.call_tool("create_task", {"title": "Zq review", "description": "Check the SLA."}))
    ident = task["record"]["id"]
    ok(await client.call_tool("update_task", {"task_id": ident, "status": "Completed"}))
    reopened = ok(await client.call_tool("update_task", {"task_id": ident, "status": "In Progress"}))["record"]

    assert (reopened["completed_on"], reopened["description"]) == (None, "Check the SLA.")


async def test_timeline_entries_are_never_open_tasks_nor_counted_as_a_reps_tasks(client: Client) -> None:
    before = ok(await client.call_tool("search_tasks", {"limit": 50}))
    ident = await deal_id(client, "Platform expansion")
    ok(await client.call_tool("move_deal_to_stage", {"deal_id": ident, "stage": "Qualification"}))

    after = ok(await client.call_tool("search_tasks", {"limit": 50}))
    open_tasks = ok(await client.call_tool("search_tasks", {"status": "open", "limit": 50}))
    deal = await get_deal(client, ident)
    entries = ok(await client.call_tool("search_tasks", {"deal_id": ident, "kind": "timeline"}))

    assert (after["total"], labels(after)) == (before["total"], labels(before))
    assert not [title for title in labels(open_tasks) if title.startswith("[Timeline]")]
    assert [row["title"] for row in deal["related"]["open_tasks"]["items"]] == ["Send platform expansion proposal"]
    assert entries["total"] == 1


async def test_the_boards_weighted_value_is_each_open_deals_amount_times_its_probability(client: Client) -> None:
    board = ok(await client.call_tool("get_pipeline_board", {}))
    deals = {
        row["id"]: row for row in ok(await client.call_tool("search_deals", {"status": "open", "limit": 50}))["items"]
    }

    expected: dict[str, Decimal] = {}
    for stage in (stage for stage in board["stages"] if stage["stage_type"] == "open"):
        for deal in (deals[card["id"]] for card in stage["deals"]):
            share = Decimal(deal["amount"]) * Decimal(deal["probability"]) / 100
            expected[deal["currency"]] = expected.get(deal["currency"], Decimal(0)) + share
    assert {currency: Decimal(value) for currency, value in board["weighted_value"].items()} == expected
    assert board["weighted_value"] == {"CHF": "16200.00", "EUR": "78550.00", "GBP": "33200.00", "USD": "15900.00"}


async def test_board_cards_say_when_each_deal_was_last_updated_and_had_activity(client: Client) -> None:
    deals, day = await ids(client, "deals"), await today(client)
    ok(await client.call_tool("log_activity", {"kind": "call", "subject": "Zq", "deal_id": deals["Team licences"]}))
    rows = ok(await client.call_tool("search_deals", {"limit": 50}))["items"]
    updated = {row["id"]: row["updated_at"][:10] for row in rows}

    result = await client.call_tool("get_pipeline_board", {})

    board = ok(result)
    cards = {card["id"]: (stage["stage_type"], card) for stage in board["stages"] for card in stage["deals"]}
    called = cards[deals["Team licences"]][1]
    assert (called["last_activity"], called["idle_days"]) == (day.isoformat(), 0)
    for card in (card for kind, card in cards.values() if kind == "open"):
        assert card["updated"] == updated[card["id"]]
        idle = (day - dt.date.fromisoformat(max(card["updated"], card["last_activity"] or ""))).days
        assert card["idle_days"] == idle
    assert all(card["idle_days"] is None for kind, card in cards.values() if kind != "open")
    quiet = next(card for kind, card in cards.values() if kind == "open" and card["last_activity"] is None)
    assert f"| idle {quiet['idle_days']} d" in text(result)
    assert "idle: days since a deal's last update or activity" in text(result)


async def test_a_closing_window_restricts_the_forecast_to_deals_expected_to_close_in_it(client: Client) -> None:
    ident, day = await deal_id(client, "Route optimisation"), await today(client)
    ok(await client.call_tool("update_deal", {"deal_id": ident, "closed_on": (day + dt.timedelta(days=3)).isoformat()}))

    board = ok(await client.call_tool("get_pipeline_board", {"closing_from": day.isoformat()}))

    proposal = next(stage for stage in board["stages"] if stage["name"] == "Proposal")
    assert (proposal["deal_count"], [deal["id"] for deal in proposal["deals"]]) == (1, [ident])
    assert (board["open_value"], board["weighted_value"]) == ({"EUR": "75000.00"}, {"EUR": "45000.00"})
    assert "undated ones are left out" in board["note"]


async def test_null_clears_a_date_and_a_link_and_a_field_the_crm_always_holds_is_refused(client: Client) -> None:
    ident = await deal_id(client, "Lab data pipeline")
    ok(await client.call_tool("update_deal", {"deal_id": ident, "closed_on": "2030-01-31"}))

    cleared = ok(await client.call_tool("update_deal", {"deal_id": ident, "closed_on": None, "account": None}))
    refused = failed(await client.call_tool("update_deal", {"deal_id": ident, "currency": None}))

    assert (cleared["record"]["expected_close"], cleared["record"]["account"]) == (None, None)
    assert "currency cannot be cleared" in refused


async def test_closing_a_case_sets_its_close_date_and_reopening_clears_it(client: Client) -> None:
    case = (await ids(client, "cases"))["Invoice shows wrong VAT rate"]
    day = await today(client)

    closed = ok(await client.call_tool("update_case", {"case_id": case, "status": "Closed"}))["record"]
    reopened = ok(await client.call_tool("update_case", {"case_id": case, "status": "Assigned"}))["record"]

    assert closed["closed_on"] == day.isoformat()
    assert reopened["closed_on"] is None


async def test_update_deal_with_a_status_points_to_the_move(client: Client) -> None:
    ident = await deal_id(client, "Lab data pipeline")

    message = failed(await client.call_tool("update_deal", {"deal_id": ident, "status": "won"}))

    assert "move_deal_to_stage(deal_id, stage='Won'|'Lost'|…)" in message


class NoNewTasks(httpx.AsyncBaseTransport):
    """The sandbox, except that creating a task fails (the CRM refuses it)."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/tasks/"):
            return httpx.Response(403, json={"detail": "Tasks are read-only for this key."})
        return await self.inner.handle_async_request(request)


async def test_a_move_whose_timeline_entry_cannot_be_written_is_still_done_and_says_so(
    connect: Connect, sandbox: Starlette
) -> None:
    async with crm_client(NoNewTasks(sandbox)) as crm, connect(crm=crm) as client:
        ident = await deal_id(client, "Platform expansion")
        result = await client.call_tool("move_deal_to_stage", {"deal_id": ident, "stage": "Proposal"})
        record = (await get_deal(client, ident))["record"]

    moved = ok(result)
    assert record["stage"]["name"] == "Proposal"
    (note,) = moved["notes"]
    assert note.startswith("The change is done, but its timeline entry could not be written: ")
    assert "Tasks are read-only for this key." in note
    assert note in text(result)
