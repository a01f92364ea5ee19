"""A rep's morning over a real `lava-crm-mcp stdio --sandbox` subprocess, through the SDK client: find a contact,
log a call, convert a lead into a deal at a named stage, plan a follow-up, move a deal by stage name, then read it
all back from the related records of get_contact, get_deal and get_account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def titles(related: dict[str, Any]) -> list[str]:
    return [row.get("title") or row.get("name") or "" for row in related["items"]]


async def test_a_reps_morning_of_calls_conversions_tasks_and_moves_reads_back_from_the_related_records(
    stdio_params: Callable[..., StdioServerParameters],
) -> None:
    async with Client(stdio_params(), read_timeout_seconds=30) as client:
        [grace] = (await call(client, "search_contacts", {"query": "grace hopper"}))["items"]
        hopper = grace["account"]
        assert (grace["first_name"], grace["last_name"], hopper["name"]) == ("Grace", "Hopper", "Hopper Systems Inc")

        logged = await call(
            client,
            "log_activity",
            {"kind": "call", "subject": "Licence renewal", "details": "Wants 40 seats", "contact_id": grace["id"]},
        )
        assert (logged["logged"], logged["activity"]["title"]) == (True, "[Call] Licence renewal")
        assert logged["activity"]["account"] == hopper

        [lead] = (await call(client, "search_leads", {"query": "Fleet tracking pilot"}))["items"]
        converted = await call(
            client, "convert_lead", {"lead_id": lead["id"], "deal_name": "Fleet pilot", "stage": "Proposal"}
        )
        made = {step["kind"]: (step["record"]["id"], step["outcome"]) for step in converted["steps"]}
        assert {kind: outcome for kind, (_, outcome) in made.items()} == {
            "account": "created",
            "contact": "created",
            "deal": "created, in stage Proposal",
            "lead": "marked converted",
        }

        today = dt.date.fromisoformat((await call(client, "search_tasks", {"limit": 1}))["today"])
        tomorrow = (today + dt.timedelta(days=1)).isoformat()
        task = {"title": "Send Grace the renewal quote", "due_date": tomorrow, "contacts": [grace["id"]]}
        follow_up = await call(client, "create_task", {**task, "account": hopper["id"]})
        assert (follow_up["record"]["status"], follow_up["record"]["due_date"]) == ("New", tomorrow)

        [team] = (await call(client, "search_deals", {"query": "Team licences"}))["items"]
        moved = await call(client, "move_deal_to_stage", {"deal_id": team["id"], "stage": "negotiation"})
        assert (moved["from_stage"], moved["to_stage"], moved["is_closed"]) == ("Qualification", "Negotiation", False)

        contact = (await call(client, "get_contact", {"contact_id": grace["id"]}))["related"]
        assert titles(contact["activities"]) == ["[Call] Licence renewal"]
        assert "Send Grace the renewal quote" in titles(contact["open_tasks"])
        assert "[Call] Licence renewal" not in titles(contact["open_tasks"])
        assert [(row["id"], row["stage"]["name"]) for row in contact["deals"]["items"]] == [(team["id"], "Negotiation")]

        deal = await call(client, "get_deal", {"deal_id": team["id"]})
        assert (deal["record"]["stage"]["name"], deal["record"]["status"]) == ("Negotiation", "open")

        home = (await call(client, "get_account", {"account_id": hopper["id"]}))["related"]
        assert titles(home["activities"]) == ["[Call] Licence renewal"]
        assert "Send Grace the renewal quote" in titles(home["open_tasks"])

        account_id, _ = made["account"]
        new_account = await call(client, "get_account", {"account_id": account_id})
        assert new_account["record"]["name"] == "Tesla Coils Ltd"
        related = new_account["related"]
        assert [(row["id"], row["name"], row["stage"]["name"]) for row in related["open_deals"]["items"]] == [
            (made["deal"][0], "Fleet pilot", "Proposal")
        ]
        assert [row["id"] for row in related["contacts"]["items"]] == [made["contact"][0]]
        lead_now = await call(client, "get_lead", {"lead_id": lead["id"]})
        assert lead_now["record"]["status"] == "converted"
