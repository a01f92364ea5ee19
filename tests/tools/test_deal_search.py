"""search_deals: every filter alone and combined (exactly the matching demo deals), the sort orders, and paging by
following `next_call` until it runs out. Deals are named here without their account prefix (see demo_org.label).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from call_results import confirmed, ok, text
from demo_org import IdOf, every_page, label, labels, parse_call, resolve, search
from mcp import Client

pytestmark = pytest.mark.anyio

BY_AMOUNT = [  # largest first
    "Route optimisation",
    "Lab data pipeline",
    "Risk dashboards",
    "Platform expansion",
    "Warehouse sensors",
    "Team licences",
    "Reporting suite",
    "Network analytics",
    "Compliance module",
    "Audit archive",
    "Starter plan",
    "Co-marketing programme",
    "Onboarding services",
    "Referral agreement",
]
BY_CLOSE_DATE = ["Compliance module", "Audit archive", "Starter plan", "Onboarding services", "Warehouse sensors"]
UNDATED = set(BY_AMOUNT) - set(BY_CLOSE_DATE)
WON = {"Starter plan", "Onboarding services", "Compliance module"}
LOST = {"Warehouse sensors", "Audit archive"}
OPEN = set(BY_AMOUNT) - WON - LOST
PARTNERSHIPS = {"Co-marketing programme", "Referral agreement"}
ANALYTICAL = IdOf("accounts", "Analytical Engines Ltd")
HOPPER = IdOf("accounts", "Hopper Systems Inc")
ADA = IdOf("contacts", "Ada Lovelace")

ALONE: list[tuple[dict[str, Any], set[str]]] = [
    ({"account_id": ANALYTICAL}, {"Platform expansion", "Starter plan"}),
    ({"account_id": IdOf("accounts", "Turing Logistics GmbH")}, {"Route optimisation", "Warehouse sensors"}),
    ({"contact_id": ADA}, {"Platform expansion", "Starter plan"}),
    ({"contact_id": IdOf("contacts", "Jean Sammet")}, {"Team licences"}),
    ({"pipeline": "Partnerships"}, PARTNERSHIPS),
    ({"pipeline": "  sales PIPELINE "}, set(BY_AMOUNT) - PARTNERSHIPS),
    ({"stage": "contacted"}, {"Co-marketing programme"}),
    ({"status": "open"}, OPEN),
    ({"status": "won"}, WON),
    ({"status": "lost"}, LOST),
    ({"amount_min": "41000"}, set(BY_AMOUNT[:5])),
    ({"amount_max": "10000.00"}, {"Onboarding services", "Co-marketing programme", "Referral agreement"}),
    ({"currency": "EUR"}, {"Lab data pipeline", "Route optimisation", "Warehouse sensors", "Referral agreement"}),
    ({"closed_from": "2025-05-02"}, {"Starter plan", "Onboarding services", "Warehouse sensors"}),
    ({"closed_to": "2025-04-25"}, {"Compliance module", "Audit archive"}),
    ({"no_expected_close": True}, OPEN),
]
COMBINED: list[tuple[dict[str, Any], set[str]]] = [
    ({"pipeline": "Partnerships", "stage": "Prospecting"}, {"Referral agreement"}),
    ({"pipeline": "Sales Pipeline", "stage": "Prospecting"}, {"Platform expansion", "Network analytics"}),
    ({"pipeline": "Sales Pipeline", "stage": "Prospecting", "amount_min": "30000"}, {"Platform expansion"}),
    ({"amount_min": "29500.00", "amount_max": "41000"}, {"Reporting suite", "Team licences", "Warehouse sensors"}),
    ({"status": "open", "currency": "EUR"}, {"Lab data pipeline", "Route optimisation", "Referral agreement"}),
    ({"status": "open", "currency": "EUR", "query": "route"}, {"Route optimisation"}),
    ({"status": "won", "closed_from": "2025-05-01", "closed_to": "2025-05-31"}, WON - {"Compliance module"}),
    ({"account_id": HOPPER, "status": "open"}, {"Team licences"}),
    ({"contact_id": ADA, "status": "won", "query": "starter"}, {"Starter plan"}),
]
NOTHING: list[dict[str, Any]] = [
    {"currency": "JPY"},
    {"pipeline": "Partnerships", "stage": "Won"},
    {"status": "lost", "amount_min": "50000"},
    {"account_id": ANALYTICAL, "query": "route"},
]


@pytest.mark.parametrize(("arguments", "expected"), ALONE + COMBINED, ids=[str(case[0]) for case in ALONE + COMBINED])
async def test_deal_filters_alone_or_combined_return_exactly_the_matching_deals(
    client: Client, arguments: dict[str, Any], expected: set[str]
) -> None:
    result = await client.call_tool("search_deals", await resolve(client, arguments))

    page = ok(result)
    assert sorted(labels(page)) == sorted(expected)
    assert (page["total"], page["has_more"], page["note"]) == (len(expected), False, None)
    assert text(result).splitlines()[0].startswith(f"deals: {len(expected)} of {len(expected)}; no more; in ")


@pytest.mark.parametrize("arguments", NOTHING, ids=str)
async def test_deal_filters_that_match_nothing_say_so(client: Client, arguments: dict[str, Any]) -> None:
    result = await client.call_tool("search_deals", await resolve(client, arguments))

    assert ok(result)["items"] == []
    assert text(result) == "deals: 0 of 0; no more."


@pytest.mark.parametrize(
    ("stage", "expected"),
    [("Prospecting", {"Platform expansion", "Network analytics", "Referral agreement"}), ("won", WON)],
)
async def test_a_stage_name_without_a_pipeline_matches_that_stage_in_every_pipeline(
    client: Client, stage: str, expected: set[str]
) -> None:
    page = await search(client, "search_deals", stage=stage)

    # Two pipelines have a stage of this name: no single stage id can be sent, so every row is checked here.
    assert sorted(labels(page)) == sorted(expected)
    assert (page["total"], page["has_more"]) == (len(expected), False)


async def test_pipeline_and_stage_filters_take_ids_as_well_as_names(client: Client) -> None:
    pipelines = {p["name"]: p for p in ok(await client.call_tool("list_pipelines", {}))["pipelines"]}
    partnerships = pipelines["Partnerships"]["id"]
    won = next(stage["id"] for stage in pipelines["Sales Pipeline"]["stages"] if stage["name"] == "Won")

    assert set(labels(await search(client, "search_deals", pipeline=partnerships))) == PARTNERSHIPS
    assert set(labels(await search(client, "search_deals", stage=won))) == WON
    assert labels(await search(client, "search_deals", pipeline=partnerships, stage="Prospecting")) == [
        "Referral agreement"
    ]


@pytest.mark.parametrize(("sort", "expected"), [("amount_desc", BY_AMOUNT), ("amount_asc", BY_AMOUNT[::-1])])
async def test_deals_sort_by_amount(client: Client, sort: str, expected: list[str]) -> None:
    assert labels(await search(client, "search_deals", sort=sort, limit=50)) == expected


@pytest.mark.parametrize(
    ("sort", "dated"), [("close_date_asc", BY_CLOSE_DATE), ("close_date_desc", BY_CLOSE_DATE[::-1])]
)
async def test_deals_sort_by_close_date_with_undated_deals_last(client: Client, sort: str, dated: list[str]) -> None:
    page = await search(client, "search_deals", sort=sort, limit=50)

    assert labels(page)[:5] == dated
    assert set(labels(page)[5:]) == UNDATED
    assert [row["closed_on"] for row in page["items"][5:]] == [None] * len(UNDATED)


async def test_a_sort_applies_within_a_filter(client: Client) -> None:
    page = await search(client, "search_deals", status="open", sort="amount_asc")

    assert labels(page) == [name for name in BY_AMOUNT[::-1] if name in OPEN]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"sort": "amount_desc", "limit": 3}, BY_AMOUNT),
        ({"status": "open", "sort": "amount_asc", "limit": 2}, [name for name in BY_AMOUNT[::-1] if name in OPEN]),
        (
            {"query": "ing", "sort": "amount_desc", "limit": 2},
            [
                "Route optimisation",
                "Warehouse sensors",
                "Reporting suite",
                "Co-marketing programme",
                "Onboarding services",
            ],
        ),
    ],
    ids=str,
)
async def test_following_next_call_returns_every_matching_deal_once_in_order(
    client: Client, arguments: dict[str, Any], expected: list[str]
) -> None:
    pages = await every_page(client, "search_deals", arguments)

    assert [label(row) for page in pages for row in page["items"]] == expected
    assert [len(page["items"]) for page in pages[:-1]] == [arguments["limit"]] * (len(pages) - 1)
    assert {page["total"] for page in pages} == {len(expected)}


async def test_the_next_call_repeats_every_filter_and_the_sort(client: Client) -> None:
    result = await client.call_tool(
        "search_deals", {"status": "open", "currency": "EUR", "sort": "amount_asc", "limit": 1}
    )

    more = ok(result)["next_call"]
    cursor = r"cursor='0:1\.[\w-]+\*3'"  # row 2 of the first slice, after the row shown (remembered), of 3
    assert re.fullmatch(rf"search_deals\(status='open', currency='EUR', sort='amount_asc', limit=1, {cursor}\)", more)
    assert text(result).splitlines()[0] == f"deals: 1 of 3; more: {more}; in Partnerships."


async def test_following_next_call_over_close_dates_keeps_undated_deals_last(client: Client) -> None:
    pages = await every_page(client, "search_deals", {"sort": "close_date_desc", "limit": 4})

    rows = [label(row) for page in pages for row in page["items"]]
    assert rows[:5] == BY_CLOSE_DATE[::-1]
    assert sorted(rows[5:]) == sorted(UNDATED)


async def test_following_next_call_after_rows_were_deleted_ends_with_an_empty_page(client: Client) -> None:
    first = await search(client, "search_contacts")
    for row in first["items"][:6]:
        ok(await confirmed(client, "delete_contact", {"contact_id": row["id"]}))

    tool, arguments = parse_call(first["next_call"])
    result = await client.call_tool(tool, arguments)

    page = ok(result)
    assert (page["items"], page["has_more"], page["next_call"]) == ([], False, None)
