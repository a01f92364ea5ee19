"""Every filter of search_contacts, search_accounts, search_leads, search_cases and search_invoices, alone and
combined with others and a query: exactly the matching demo records (lava_crm_mcp/sandbox/demo_data.py) come back.

The sandbox is seeded for a fixed day, so invoice due dates (offsets from that day) are known here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from call_results import ok, text
from demo_org import IdOf, dated_crm, labels, resolve, search
from mcp import Client
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio

TODAY = dt.date(2025, 6, 11)
ANALYTICAL = IdOf("accounts", "Analytical Engines Ltd")
BABBAGE = IdOf("accounts", "Babbage & Co")
HOPPER = IdOf("accounts", "Hopper Systems Inc")
TURING = IdOf("accounts", "Turing Logistics GmbH")
FRANKLIN = IdOf("accounts", "Franklin Health Partners")
OPEN_ACCOUNTS = {
    "Analytical Engines Ltd",
    "Babbage & Co",
    "Hopper Systems Inc",
    "Curie Biolabs",
    "Turing Logistics GmbH",
    "Noether Insurance AG",
    "Lamarr Wireless",
}
HOPPER_PEOPLE = {"Grace Hopper", "Jean Sammet", "Margaret Hamilton", "John von Neumann"}
PAID = {"Starter plan – annual", "Onboarding services"}
UNPAID = {"Compliance module – first instalment", "Compliance module – second instalment", "Consulting hours – May"}

ALONE: list[tuple[str, dict[str, Any], set[str]]] = [
    ("search_contacts", {"account_id": ANALYTICAL}, {"Ada Lovelace", "Charles Babbage", "Mary Somerville"}),
    ("search_contacts", {"email": "hoppersystems"}, HOPPER_PEOPLE),
    ("search_contacts", {"email": "ADA.Lovelace@"}, {"Ada Lovelace"}),
    ("search_accounts", {"industry": "SOFTWARE"}, {"Hopper Systems Inc"}),
    ("search_accounts", {"industry": "HEALTHCARE"}, {"Franklin Health Partners"}),
    ("search_accounts", {"status": "open"}, OPEN_ACCOUNTS),
    ("search_accounts", {"status": "close"}, {"Franklin Health Partners"}),
    (
        "search_leads",
        {"status": "assigned"},
        {"Fleet tracking pilot", "Website redesign inquiry", "Conference booth lead", "Webinar follow-up"},
    ),
    (
        "search_leads",
        {"status": "in process"},
        {"Data warehouse migration", "Reseller partnership", "Inbound chat: API access"},
    ),
    ("search_leads", {"status": "converted"}, {"Security audit"}),
    ("search_leads", {"source": "partner"}, {"Fleet tracking pilot", "Reseller partnership"}),
    ("search_leads", {"source": "email"}, {"Data warehouse migration", "Quote request: 50 seats"}),
    ("search_leads", {"source": "existing customer"}, {"Security audit"}),
    ("search_cases", {"status": "New"}, {"Invoice shows wrong VAT rate"}),
    ("search_cases", {"status": "Closed"}, {"How to add SSO users?"}),
    (
        "search_cases",
        {"status": "open"},
        {"Dashboard export times out", "Sensor feed outage", "Invoice shows wrong VAT rate"},
    ),
    ("search_cases", {"priority": "Normal"}, {"How to add SSO users?", "Invoice shows wrong VAT rate"}),
    ("search_cases", {"priority": "Urgent"}, {"Sensor feed outage"}),
    ("search_cases", {"account_id": TURING}, {"Sensor feed outage"}),
    ("search_invoices", {"status": "Paid"}, PAID),
    ("search_invoices", {"status": "Cancelled"}, {"Pilot licence (cancelled)"}),
    (
        "search_invoices",
        {"account_id": FRANKLIN},
        {"Compliance module – first instalment", "Compliance module – second instalment"},
    ),
    ("search_invoices", {"unpaid": True}, UNPAID),
    ("search_invoices", {"unpaid": False}, PAID),
    ("search_invoices", {"due_from": "2025-06-01"}, {"Compliance module – first instalment", "Consulting hours – May"}),
    ("search_invoices", {"due_to": "2025-05-12"}, {"Starter plan – annual", "Pilot licence (cancelled)"}),
]
COMBINED: list[tuple[str, dict[str, Any], set[str]]] = [
    ("search_contacts", {"account_id": HOPPER, "email": "j"}, {"Jean Sammet", "John von Neumann"}),
    ("search_contacts", {"account_id": HOPPER, "email": "j", "query": "neumann"}, {"John von Neumann"}),
    ("search_accounts", {"industry": "HEALTHCARE", "status": "close"}, {"Franklin Health Partners"}),
    ("search_accounts", {"status": "open", "query": "gmbh"}, {"Turing Logistics GmbH"}),
    ("search_leads", {"status": "assigned", "source": "partner"}, {"Fleet tracking pilot"}),
    ("search_leads", {"status": "in process", "source": "email", "query": "migration"}, {"Data warehouse migration"}),
    ("search_cases", {"status": "open", "priority": "Urgent"}, {"Sensor feed outage"}),
    ("search_cases", {"status": "open", "account_id": BABBAGE, "query": "vat"}, {"Invoice shows wrong VAT rate"}),
    (
        "search_invoices",
        {"unpaid": True, "account_id": FRANKLIN},
        {"Compliance module – first instalment", "Compliance module – second instalment"},
    ),
    (
        "search_invoices",
        {"unpaid": True, "due_to": TODAY.isoformat(), "query": "compliance"},
        {"Compliance module – first instalment"},
    ),
    ("search_invoices", {"status": "Paid", "due_from": "2025-05-20"}, {"Onboarding services"}),
]
NOTHING: list[tuple[str, dict[str, Any]]] = [
    ("search_contacts", {"account_id": FRANKLIN, "email": "hopper"}),
    ("search_accounts", {"industry": "RETAIL"}),
    ("search_leads", {"status": "converted", "source": "call"}),
    ("search_cases", {"status": "Duplicate"}),
    ("search_invoices", {"unpaid": False, "account_id": FRANKLIN}),
]


@pytest.fixture
def sandbox() -> Iterator[Starlette]:
    app = create_app(seed="demo", today=TODAY)
    yield app
    app.state.sandbox.close()


@pytest.fixture
async def crm(sandbox: Starlette) -> AsyncIterator[CrmClient]:
    async with dated_crm(sandbox, TODAY) as client:
        yield client


def _id(case: tuple[Any, ...]) -> str:
    return f"{case[0]}{case[1]}"


async def assert_finds(client: Client, tool: str, arguments: dict[str, Any], expected: set[str]) -> None:
    plural = tool.removeprefix("search_")
    result = await client.call_tool(tool, await resolve(client, arguments | {"limit": 50}))

    page = ok(result)
    assert sorted(labels(page)) == sorted(expected)
    assert (page["total"], page["has_more"], page["next_call"], page["note"]) == (len(expected), False, None, None)
    assert text(result).splitlines()[0] == f"{plural}: {len(expected)} of {len(expected)}; no more."


@pytest.mark.parametrize(("tool", "arguments", "expected"), ALONE, ids=[_id(case) for case in ALONE])
async def test_each_filter_alone_returns_exactly_the_matching_records(
    client: Client, tool: str, arguments: dict[str, Any], expected: set[str]
) -> None:
    await assert_finds(client, tool, arguments, expected)


@pytest.mark.parametrize(("tool", "arguments", "expected"), COMBINED, ids=[_id(case) for case in COMBINED])
async def test_filters_combined_with_each_other_and_a_query_must_all_match(
    client: Client, tool: str, arguments: dict[str, Any], expected: set[str]
) -> None:
    await assert_finds(client, tool, arguments, expected)


@pytest.mark.parametrize(("tool", "arguments"), NOTHING, ids=[_id(case) for case in NOTHING])
async def test_filters_that_match_nothing_give_an_empty_page_that_says_so(
    client: Client, tool: str, arguments: dict[str, Any]
) -> None:
    result = await client.call_tool(tool, await resolve(client, arguments))

    page = ok(result)
    assert (page["items"], page["total"], page["has_more"], page["next_call"]) == ([], 0, False, None)
    assert text(result) == f"{tool.removeprefix('search_')}: 0 of 0; no more."


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            "due_date_asc",
            [
                "Pilot licence (cancelled)",
                "Starter plan – annual",
                "Onboarding services",
                "Compliance module – first instalment",
                "Consulting hours – May",
                "Compliance module – second instalment",
            ],
        ),
        (
            "due_date_desc",
            [
                "Consulting hours – May",
                "Compliance module – first instalment",
                "Onboarding services",
                "Starter plan – annual",
                "Pilot licence (cancelled)",
                "Compliance module – second instalment",
            ],
        ),
    ],
)
async def test_invoices_sort_by_due_date_with_undated_ones_last(client: Client, sort: str, expected: list[str]) -> None:
    assert labels(await search(client, "search_invoices", sort=sort)) == expected


async def test_invoice_sort_applies_within_a_filter(client: Client) -> None:
    page = await search(client, "search_invoices", unpaid=True, sort="due_date_asc")

    assert labels(page) == [
        "Compliance module – first instalment",
        "Consulting hours – May",
        "Compliance module – second instalment",
    ]
