"""search_tasks: every filter alone and combined, the relative `due` windows on fixed days (week boundaries
included), the date it takes as today, and the due-date sort with paging.

The sandbox is seeded for `today` and the CRM client's clock says the same day, so every due date is known:
the demo tasks fall due at offsets -20, -9 (both Completed), -3, 0, 1, 2, 3, 4, 6, 10 and 21 days from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from call_results import ok, text
from demo_org import IdOf, dated_crm, every_page, label, labels, resolve, search
from mcp import Client
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio

MONDAY, WEDNESDAY, SUNDAY = dt.date(2025, 6, 9), dt.date(2025, 6, 11), dt.date(2025, 6, 15)
BY_DUE_DATE = [  # offsets -20 … 21
    "Kick-off onboarding workshop",
    "Post-mortem on warehouse sensors",
    "Negotiate reporting suite discount",
    "Book discovery call with Hopper Systems",
    "Reproduce export timeout",
    "Send platform expansion proposal",
    "Call Barbara Liskov about the migration",
    "Review lab pipeline requirements",
    "Prepare risk dashboard demo",
    "Qualify the fleet tracking pilot",
    "Draft co-marketing plan",
]
COMPLETED = {"Kick-off onboarding workshop", "Post-mortem on warehouse sensors"}
IN_PROGRESS = {
    "Book discovery call with Hopper Systems",
    "Review lab pipeline requirements",
    "Reproduce export timeout",
}
NEW = set(BY_DUE_DATE) - COMPLETED - IN_PROGRESS
ADA = IdOf("contacts", "Ada Lovelace")

ALONE: list[tuple[dict[str, Any], set[str]]] = [
    ({"status": "New"}, NEW),
    ({"status": "In Progress"}, IN_PROGRESS),
    ({"status": "Completed"}, COMPLETED),
    ({"status": "open"}, NEW | IN_PROGRESS),
    (
        {"priority": "High"},
        {
            "Send platform expansion proposal",
            "Prepare risk dashboard demo",
            "Negotiate reporting suite discount",
            "Call Barbara Liskov about the migration",
            "Reproduce export timeout",
        },
    ),
    (
        {"priority": "Low"},
        {"Post-mortem on warehouse sensors", "Draft co-marketing plan", "Qualify the fleet tracking pilot"},
    ),
    ({"due_from": "2025-06-17"}, set(BY_DUE_DATE[-3:])),
    ({"due_to": "2025-06-08"}, set(BY_DUE_DATE[:3])),
    ({"account_id": IdOf("accounts", "Hopper Systems Inc")}, {BY_DUE_DATE[0], BY_DUE_DATE[3]}),
    ({"deal_id": IdOf("deals", "Onboarding services")}, {"Kick-off onboarding workshop"}),
    ({"deal_id": IdOf("deals", "Risk dashboards")}, {"Prepare risk dashboard demo"}),
    ({"contact_id": ADA}, {"Send platform expansion proposal", "Reproduce export timeout"}),
    ({"contact_id": IdOf("contacts", "Olga Taussky")}, {"Prepare risk dashboard demo"}),
    ({"lead_id": IdOf("leads", "Data warehouse migration")}, {"Call Barbara Liskov about the migration"}),
    ({"case_id": IdOf("cases", "Dashboard export times out")}, {"Reproduce export timeout"}),
]
COMBINED: list[tuple[dict[str, Any], set[str]]] = [
    (
        {"status": "open", "priority": "High", "due": "this_week"},
        {"Reproduce export timeout", "Send platform expansion proposal", "Call Barbara Liskov about the migration"},
    ),
    ({"status": "open", "priority": "High", "due": "this_week", "query": "call"}, {BY_DUE_DATE[6]}),
    ({"account_id": IdOf("accounts", "Hopper Systems Inc"), "status": "open"}, {BY_DUE_DATE[3]}),
    ({"due_from": "2025-06-12", "due_to": "2025-06-13", "priority": "High"}, set(BY_DUE_DATE[4:6])),
]
WINDOWS: list[tuple[dt.date, str, set[str]]] = [
    (WEDNESDAY, "overdue", {"Negotiate reporting suite discount"}),
    (WEDNESDAY, "today", {"Book discovery call with Hopper Systems"}),
    (WEDNESDAY, "this_week", set(BY_DUE_DATE[3:8])),  # Mon 9 - Sun 15: not Sun 8 (-3) nor Tue 17 (+6)
    (WEDNESDAY, "next_7_days", set(BY_DUE_DATE[3:9])),  # 11 - 18
    (MONDAY, "this_week", set(BY_DUE_DATE[3:9])),  # Mon 9 (0) - Sun 15 (+6); not Fri 6 (-3)
    (MONDAY, "overdue", {"Negotiate reporting suite discount"}),
    (SUNDAY, "this_week", set(BY_DUE_DATE[2:4])),  # Thu 12 (-3) and Sun 15 (0); not Mon 16 (+1)
    (SUNDAY, "today", {"Book discovery call with Hopper Systems"}),
]


@pytest.fixture
def today() -> dt.date:
    return WEDNESDAY


@pytest.fixture
def sandbox(today: dt.date) -> Iterator[Starlette]:
    app = create_app(seed="demo", today=today)
    yield app
    app.state.sandbox.close()


@pytest.fixture
async def crm(sandbox: Starlette, today: dt.date) -> AsyncIterator[CrmClient]:
    async with dated_crm(sandbox, today) as client:
        yield client


async def assert_finds(client: Client, arguments: dict[str, Any], expected: set[str], today: dt.date) -> None:
    result = await client.call_tool("search_tasks", await resolve(client, arguments))

    page = ok(result)
    assert sorted(labels(page)) == sorted(expected)
    assert (page["total"], page["has_more"], page["note"], page["today"]) == (
        len(expected),
        False,
        None,
        today.isoformat(),
    )
    assert text(result).splitlines()[0] == f"tasks: {len(expected)} of {len(expected)}; no more; today is {today}."


@pytest.mark.parametrize(("arguments", "expected"), ALONE + COMBINED, ids=[str(case[0]) for case in ALONE + COMBINED])
async def test_task_filters_alone_or_combined_return_exactly_the_matching_tasks(
    client: Client, arguments: dict[str, Any], expected: set[str]
) -> None:
    await assert_finds(client, arguments, expected, WEDNESDAY)


@pytest.mark.parametrize(("today", "due", "expected"), WINDOWS, ids=[f"{c[0]:%a}-{c[1]}" for c in WINDOWS])
async def test_due_windows_count_from_today_and_weeks_run_monday_to_sunday(
    client: Client, today: dt.date, due: str, expected: set[str]
) -> None:
    await assert_finds(client, {"due": due}, expected, today)


async def test_window_edges_yesterday_is_overdue_unless_completed_and_next_7_days_ends_a_week_from_today(
    client: Client,
) -> None:
    def day(offset: int) -> str:
        return (WEDNESDAY + dt.timedelta(days=offset)).isoformat()

    for title, due, status in [("Edge -1", -1, "New"), ("Edge -1 done", -1, "Completed"), ("Edge +7", 7, "New")]:
        ok(await client.call_tool("create_task", {"title": title, "due_date": day(due), "status": status}))
    ok(await client.call_tool("create_task", {"title": "Edge +8", "due_date": day(8)}))

    overdue = await search(client, "search_tasks", due="overdue", query="edge")
    coming = await search(client, "search_tasks", due="next_7_days", query="edge")

    assert labels(overdue) == ["Edge -1"]
    assert labels(coming) == ["Edge +7"]


async def test_filters_that_match_no_task_give_an_empty_page_stating_today(client: Client) -> None:
    for arguments in [
        {"due": "overdue", "priority": "Low"},
        {"deal_id": IdOf("deals", "Onboarding services"), "status": "open"},
    ]:
        result = await client.call_tool("search_tasks", await resolve(client, arguments))

        assert (ok(result)["items"], ok(result)["total"]) == ([], 0)
        assert text(result) == "tasks: 0 of 0; no more; today is 2025-06-11."


@pytest.mark.parametrize(("sort", "expected"), [("due_date_asc", BY_DUE_DATE), ("due_date_desc", BY_DUE_DATE[::-1])])
async def test_tasks_sort_by_due_date_with_undated_tasks_last(client: Client, sort: str, expected: list[str]) -> None:
    ok(await client.call_tool("create_task", {"title": "Someday"}))

    assert labels(await search(client, "search_tasks", sort=sort, limit=50)) == [*expected, "Someday"]


async def test_following_next_call_pages_through_open_tasks_by_due_date_once_each(client: Client) -> None:
    pages = await every_page(client, "search_tasks", {"status": "open", "sort": "due_date_asc", "limit": 4})

    assert [label(row) for page in pages for row in page["items"]] == [t for t in BY_DUE_DATE if t not in COMPLETED]
    assert [len(page["items"]) for page in pages] == [4, 4, 1]
    assert pages[0]["next_call"].startswith("search_tasks(status='open', sort='due_date_asc', limit=4, cursor='0:4.")
    assert {page["today"] for page in pages} == {"2025-06-11"}
