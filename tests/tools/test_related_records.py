"""Related records on get_*: up to five of each kind, their total, the exact search for all of them, and only
records that belong (closed deals, completed tasks and closed cases stay out of the open lists).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from call_results import ok, text
from demo_org import IdOf, every_page, ids, labels, parse_call, resolve
from mcp import Client
from starlette.applications import Starlette
from tool_clients import Connect, crm_client

pytestmark = pytest.mark.anyio


def listed(related: dict[str, Any]) -> dict[str, tuple[int, set[str], str | None]]:
    """Each related list as (total, labels, more)."""
    return {key: (value["total"], set(labels(value)), value["more"]) for key, value in related.items()}


async def get(client: Client, noun: str, record: IdOf) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(f"get_{noun}", await resolve(client, {f"{noun}_id": record}))
    return ok(result), text(result)


async def add_task(client: Client, title: str, status: str = "New", **links: Any) -> None:
    ok(await client.call_tool("create_task", {"title": title, "status": status, **await resolve(client, links)}))


async def test_get_account_lists_its_contacts_and_its_open_deals_tasks_and_cases(client: Client) -> None:
    got, shown = await get(client, "account", IdOf("accounts", "Analytical Engines Ltd"))

    assert listed(got["related"]) == {
        "contacts": (3, {"Ada Lovelace", "Charles Babbage", "Mary Somerville"}, None),
        "open_deals": (1, {"Platform expansion"}, None),
        "open_tasks": (2, {"Send platform expansion proposal", "Reproduce export timeout"}, None),
        "open_cases": (1, {"Dashboard export times out"}, None),
        "activities": (0, set(), None),
        "timeline": (0, set(), None),
    }
    heads = [line for line in shown.splitlines() if not line.startswith(" ")][1:]
    assert heads == [
        "last activity: none recorded",
        "contacts (3)",
        "open deals (1)",
        "open tasks (2)",
        "open cases (1)",
        "activities: none",
        "timeline: none",
    ]
    tables = [line.strip() for line in shown.splitlines() if line.startswith("  id | ")]
    assert "  id | name | amount | prob | stage | status | close | updated" in shown.splitlines()
    assert not [table for table in tables if "last activity" in table]  # a get reads no activity for its rows


async def test_won_deals_completed_tasks_and_closed_cases_are_not_in_the_open_lists(client: Client) -> None:
    got, shown = await get(client, "account", IdOf("accounts", "Hopper Systems Inc"))

    assert listed(got["related"]) == {
        "contacts": (4, {"Grace Hopper", "Jean Sammet", "Margaret Hamilton", "John von Neumann"}, None),
        "open_deals": (1, {"Team licences"}, None),  # not the won "Onboarding services"
        "open_tasks": (1, {"Book discovery call with Hopper Systems"}, None),  # not the completed kick-off
        "open_cases": (0, set(), None),  # "How to add SSO users?" is closed
        "activities": (0, set(), None),  # a completed task is not a logged activity
        "timeline": (0, set(), None),
    }
    assert "open cases: none" in shown.splitlines()


async def test_more_than_five_related_records_give_the_exact_search_that_lists_them_all(client: Client) -> None:
    account = (await ids(client, "accounts"))["Analytical Engines Ltd"]
    for n in range(1, 5):
        ok(
            await client.call_tool(
                "create_contact", {"first_name": "Zq", "last_name": f"Extra {n}", "account": account}
            )
        )

    got, shown = await get(client, "account", IdOf("accounts", "Analytical Engines Ltd"))

    contacts = got["related"]["contacts"]
    more = f"search_contacts(account_id='{account}')"
    assert (contacts["total"], contacts["more"]) == (7, more)
    assert labels(contacts) == ["Zq Extra 4", "Zq Extra 3", "Zq Extra 2", "Zq Extra 1", "Mary Somerville"]
    assert f"contacts (7); all: {more}" in shown.splitlines()
    tool, arguments = parse_call(more)
    pages = await every_page(client, tool, arguments)
    assert sorted(name for page in pages for name in labels(page)) == sorted(
        [f"Zq Extra {n}" for n in range(1, 5)] + ["Ada Lovelace", "Charles Babbage", "Mary Somerville"]
    )


async def test_the_search_for_all_open_tasks_repeats_the_open_filter(client: Client) -> None:
    noether = IdOf("accounts", "Noether Insurance AG")
    for n in range(1, 6):
        await add_task(client, f"Zq follow-up {n}", account=noether)
    await add_task(client, "Zq done", "Completed", account=noether)

    got, _ = await get(client, "account", noether)

    tasks = got["related"]["open_tasks"]
    account = (await resolve(client, {"id": noether}))["id"]
    assert (tasks["total"], len(tasks["items"])) == (6, 5)
    assert tasks["more"] == f"search_tasks(account_id='{account}', status='open')"
    tool, arguments = parse_call(tasks["more"])
    rows = [name for page in await every_page(client, tool, arguments) for name in labels(page)]
    assert sorted(rows) == sorted([f"Zq follow-up {n}" for n in range(1, 6)] + ["Prepare risk dashboard demo"])


@pytest.mark.parametrize(
    ("deal", "open_tasks"),
    [("Platform expansion", {"Send platform expansion proposal"}), ("Onboarding services", set[str]())],
)
async def test_get_deal_lists_its_open_tasks_and_names_its_contacts(
    client: Client, deal: str, open_tasks: set[str]
) -> None:
    await add_task(client, "Zq finished call", "Completed", opportunity=IdOf("deals", deal))

    got, shown = await get(client, "deal", IdOf("deals", deal))

    assert listed(got["related"]) == {
        "open_tasks": (len(open_tasks), open_tasks, None),
        "activities": (0, set(), None),
        "timeline": (0, set(), None),
    }
    assert all(contact["name"] for contact in got["record"]["contacts"])
    assert ("open tasks: none" in shown.splitlines()) == (not open_tasks)


async def test_get_contact_lists_all_their_deals_and_their_open_tasks(client: Client) -> None:
    await add_task(client, "Zq old call with Ada", "Completed", contacts=[IdOf("contacts", "Ada Lovelace")])

    got, _ = await get(client, "contact", IdOf("contacts", "Ada Lovelace"))

    assert listed(got["related"]) == {
        "deals": (2, {"Platform expansion", "Starter plan"}, None),
        "open_tasks": (2, {"Send platform expansion proposal", "Reproduce export timeout"}, None),
        "activities": (0, set(), None),
        "timeline": (0, set(), None),
    }


@pytest.mark.parametrize(
    ("noun", "record", "link", "open_task"),
    [
        ("lead", IdOf("leads", "Data warehouse migration"), "lead", "Call Barbara Liskov about the migration"),
        ("case", IdOf("cases", "Dashboard export times out"), "case", "Reproduce export timeout"),
    ],
)
async def test_get_lead_and_get_case_list_only_their_open_tasks(
    client: Client, noun: str, record: IdOf, link: str, open_task: str
) -> None:
    await add_task(client, "Zq closed out", "Completed", **{link: record})
    await add_task(client, "Zq in flight", "In Progress", **{link: record})

    got, shown = await get(client, noun, record)

    assert listed(got["related"]) == {
        "open_tasks": (2, {open_task, "Zq in flight"}, None),
        "activities": (0, set(), None),
    }
    assert "open tasks (2)" in shown.splitlines()
    assert "Zq closed out" not in shown


class Counting(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, counting requests per path."""

    def __init__(self, app: Any) -> None:
        self.inner, self.paths = httpx.ASGITransport(app=app), list[str]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)


async def test_open_tasks_and_activities_share_one_read_of_the_records_tasks(
    sandbox: Starlette, connect: Connect
) -> None:
    transport = Counting(sandbox)
    async with crm_client(transport) as crm, connect(crm=crm) as client:
        (row,) = ok(await client.call_tool("search_contacts", {"query": "Ada Lovelace"}))["items"]
        await client.call_tool("log_activity", {"kind": "call", "subject": "Intro", "contact_id": row["id"]})
        transport.paths.clear()
        got = ok(await client.call_tool("get_contact", {"contact_id": row["id"]}))

    assert transport.paths.count("/api/tasks/") == 1
    assert (got["related"]["activities"]["total"], got["related"]["open_tasks"]["total"]) == (1, 2)  # 2 in the demo


async def test_when_a_record_has_more_tasks_than_one_read_each_list_is_searched_on_its_own(client: Client) -> None:
    (row,) = ok(await client.call_tool("search_contacts", {"query": "Ada Lovelace"}))["items"]
    for n in range(55):
        ok(await client.call_tool("create_task", {"title": f"Chore {n:02}", "contacts": [row["id"]]}))
    for n in range(3):
        await client.call_tool("log_activity", {"kind": "note", "subject": f"Note {n}", "contact_id": row["id"]})

    related = ok(await client.call_tool("get_contact", {"contact_id": row["id"]}))["related"]

    assert (related["open_tasks"]["total"], len(related["open_tasks"]["items"])) == (57, 5)  # 2 in the demo + 55
    assert related["open_tasks"]["more"] == f"search_tasks(contact_id='{row['id']}', status='open')"
    assert (related["activities"]["total"], len(related["activities"]["items"])) == (3, 3)
