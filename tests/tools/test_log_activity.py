"""log_activity: one completed "[Kind] subject" task on what it concerns, written once however often it is called,
listed under `activities` of each record it belongs to (newest first), never as an open task, and found by
search_tasks(kind=…).

The sandbox is seeded for TODAY and the CRM client's clock says the same day, so the default date is known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from call_results import failed, ok, text
from demo_org import IdOf, dated_crm, labels, resolve
from mcp import Client
from mcp.types import CallToolResult
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio

TODAY = dt.date(2025, 6, 11)
ADA = IdOf("contacts", "Ada Lovelace")
ENGINES = IdOf("accounts", "Analytical Engines Ltd")
PLATFORM = IdOf("deals", "Platform expansion")
PREFIXES = {"call": "[Call] ", "email": "[Email] ", "meeting": "[Meeting] ", "note": "[Note] "}


@pytest.fixture
def sandbox() -> Iterator[Starlette]:
    app = create_app(seed="demo", today=TODAY)
    yield app
    app.state.sandbox.close()


@pytest.fixture
async def crm(sandbox: Starlette) -> AsyncIterator[CrmClient]:
    async with dated_crm(sandbox, TODAY) as client:
        yield client


async def log(client: Client, **arguments: Any) -> CallToolResult:
    return await client.call_tool("log_activity", await resolve(client, arguments))


async def task_count(client: Client) -> int:
    return int(ok(await client.call_tool("search_tasks", {"kind": "any", "limit": 1}))["total"])


async def get(client: Client, noun: str, record: IdOf) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(f"get_{noun}", await resolve(client, {f"{noun}_id": record}))
    return ok(result), text(result)


def link(record: dict[str, Any] | None) -> str | None:
    return record["id"] if record else None


async def test_a_call_on_a_contact_is_one_completed_task_due_today_on_the_contact_and_its_account(
    client: Client,
) -> None:
    ids = await resolve(client, {"ada": ADA, "engines": ENGINES})
    before = await task_count(client)

    result = await log(client, kind="call", subject=" Pricing questions ", details="Asked about tiers", contact_id=ADA)

    got = ok(result)
    activity = got["activity"]
    assert got["logged"] is True
    assert {key: activity[key] for key in ("title", "status", "due_date", "description")} == {
        "title": "[Call] Pricing questions",
        "status": "Completed",
        "due_date": TODAY.isoformat(),
        "description": "Asked about tiers",
    }
    assert activity["account"] == {"id": ids["engines"], "name": "Analytical Engines Ltd"}
    assert activity["contacts"] == [{"id": ids["ada"], "name": "Ada Lovelace"}]
    assert (activity["opportunity"], activity["lead"], activity["case"]) == (None, None, None)
    assert text(result).startswith(
        f"Logged: task {activity['id']}: title=[Call] Pricing questions; status=Completed; priority=Medium; "
        f'due_date=2025-06-11; description="Asked about tiers"; account=Analytical Engines Ltd ({ids["engines"]}); '
        f"contacts=Ada Lovelace ({ids['ada']}); created_at="
    )
    assert await task_count(client) == before + 1


@pytest.mark.parametrize("kind", list(PREFIXES))
async def test_each_kind_is_titled_with_its_prefix_and_dated_the_day_it_occurred(client: Client, kind: str) -> None:
    got = ok(await log(client, kind=kind, subject="Kick-off", occurred_on="2025-06-02", deal_id=PLATFORM))

    activity = got["activity"]
    assert (activity["title"], activity["due_date"], activity["status"]) == (
        f"{PREFIXES[kind]}Kick-off",
        "2025-06-02",
        "Completed",
    )
    known = await resolve(client, {"deal": PLATFORM, "account": ENGINES})
    assert (link(activity["opportunity"]), link(activity["account"])) == (known["deal"], known["account"])
    assert activity["contacts"] == []


async def test_logging_the_same_activity_again_writes_nothing_and_says_already_logged(client: Client) -> None:
    arguments: dict[str, Any] = {"kind": "meeting", "subject": "Quarterly review", "contact_id": ADA}
    first = ok(await log(client, **arguments))
    before = await task_count(client)

    again = await log(client, **arguments)

    assert ok(again)["logged"] is False
    assert ok(again)["activity"] == first["activity"]
    assert text(again).startswith(
        f"Already logged (nothing written): task {first['activity']['id']}: title=[Meeting] Quarterly review; "
    )
    assert await task_count(client) == before


@pytest.mark.parametrize(
    ("parent", "record", "account"),
    [
        ("deal_id", IdOf("deals", "Route optimisation"), "Turing Logistics GmbH"),
        ("case_id", IdOf("cases", "Invoice shows wrong VAT rate"), "Babbage & Co"),
        ("contact_id", IdOf("contacts", "Katherine Johnson"), None),  # a contact of no account
        ("lead_id", IdOf("leads", "Webinar follow-up"), None),
    ],
)
async def test_without_an_account_the_activity_takes_that_of_its_deal_contact_or_case(
    client: Client, parent: str, record: IdOf, account: str | None
) -> None:
    got = ok(await log(client, kind="note", subject="Context", **{parent: record}))

    linked: dict[str, Any] | None = got["activity"]["account"]
    assert (linked["name"] if linked else None) == account


async def test_an_activity_about_nothing_is_refused_and_nothing_is_written(client: Client) -> None:
    before = await task_count(client)

    message = failed(await log(client, kind="call", subject="Who was that?"))

    assert message == (
        "Error executing tool log_activity: Say what the activity concerns: pass contact_id, deal_id, account_id, "
        "lead_id or case_id."
    )
    assert await task_count(client) == before


UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({}, f"contact '{UNKNOWN}' was not found in this org (HTTP 404: Not found.)."),
        ({"account_id": ENGINES}, f'contacts: Invalid pk "{UNKNOWN}" - object does not exist.'),
    ],
    ids=["alone", "with-account"],
)
async def test_an_unknown_contact_is_refused_and_nothing_is_written(
    client: Client, extra: dict[str, Any], says: str
) -> None:
    before = await task_count(client)

    message = failed(await log(client, kind="call", subject="Ghost call", contact_id=UNKNOWN, **extra))

    assert says in message
    assert await task_count(client) == before
    assert ok(await client.call_tool("search_tasks", {"query": "Ghost call"}))["items"] == []


async def test_activities_are_listed_newest_first_on_the_contact_deal_and_account_and_never_as_open_tasks(
    client: Client,
) -> None:
    for kind, day in (("call", "2025-06-01"), ("email", "2025-06-09"), ("meeting", "2025-06-05")):
        ok(await log(client, kind=kind, subject=f"Scope {kind}", occurred_on=day, contact_id=ADA, deal_id=PLATFORM))
    newest_first = ["[Email] Scope email", "[Meeting] Scope meeting", "[Call] Scope call"]

    for noun, record in (("contact", ADA), ("deal", PLATFORM), ("account", ENGINES)):
        got, shown = await get(client, noun, record)

        activities = got["related"]["activities"]
        assert (labels(activities), activities["total"], activities["more"]) == (newest_first, 3, None), noun
        assert [row["due_date"] for row in activities["items"]] == ["2025-06-09", "2025-06-05", "2025-06-01"]
        assert not set(labels(got["related"]["open_tasks"])) & set(newest_first), noun
        lines = shown.splitlines()
        start = lines.index("activities (3)")
        assert [line.split(" | ")[1] for line in lines[start + 2 : start + 5]] == newest_first, noun


@pytest.mark.parametrize(
    ("noun", "parent", "record"),
    [
        ("lead", "lead_id", IdOf("leads", "Fleet tracking pilot")),
        ("case", "case_id", IdOf("cases", "Sensor feed outage")),
    ],
)
async def test_activities_on_a_lead_or_a_case_are_listed_on_it(
    client: Client, noun: str, parent: str, record: IdOf
) -> None:
    ok(await log(client, kind="email", subject="Sent the recap", **{parent: record}))

    got, shown = await get(client, noun, record)

    assert labels(got["related"]["activities"]) == ["[Email] Sent the recap"]
    assert "[Email] Sent the recap" not in labels(got["related"]["open_tasks"])
    assert "activities (1)" in shown.splitlines()


async def test_search_tasks_by_kind_finds_only_logged_activities_of_that_kind(client: Client) -> None:
    for kind in PREFIXES:
        ok(await log(client, kind=kind, subject="Renewal", contact_id=ADA))
    ok(await client.call_tool("create_task", {"title": "Call the printer", "status": "Completed"}))

    calls = await client.call_tool("search_tasks", {"kind": "call"})
    everything = await client.call_tool("search_tasks", {"kind": "activity"})

    assert labels(ok(calls)) == ["[Call] Renewal"]  # not "Call the printer" nor "Call Barbara Liskov about …"
    assert sorted(labels(ok(everything))) == [f"{prefix}Renewal" for prefix in sorted(PREFIXES.values())]
    assert text(everything).splitlines()[0] == "tasks: 4 of 4; no more; today is 2025-06-11."
    assert "[Note] Renewal | Completed" in text(everything)
