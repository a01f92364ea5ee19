"""Search arguments the model gets wrong are refused with a message saying what is valid; multi-word queries
match records having every word, in any field and any order.
"""

from __future__ import annotations

from typing import Any

import pytest
from call_results import failed, ok, text
from demo_org import labels, search
from mcp import Client

pytestmark = pytest.mark.anyio

SALES_STAGES = "'Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost'"
BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "search_tasks",
        {"status": "Done"},
        "Invalid arguments for search_tasks: status: Input should be 'New', 'In Progress', 'Completed' or 'open'.",
    ),
    (
        "search_deals",
        {"status": "closed"},
        "Invalid arguments for search_deals: status: Input should be 'open', 'won' or 'lost'. Won and lost deals "
        "alike: leave status out and give closed_from/closed_to.",
    ),
    (
        "search_invoices",
        {"status": "overdue"},
        "Invalid arguments for search_invoices: status: Input should be 'Draft', 'Sent', 'Paid', 'Pending' or "
        "'Cancelled'. Overdue invoices: unpaid=true with due_to set to yesterday's date.",
    ),
    (
        "search_tasks",
        {"due": "tomorrow"},
        "Invalid arguments for search_tasks: due: Input should be 'overdue', 'today', 'this_week' or 'next_7_days'.",
    ),
    (
        "search_leads",
        {"source": "web"},
        "Invalid arguments for search_leads: source: Input should be 'call', 'email', 'existing customer', 'partner', "
        "'public relations', 'campaign' or 'other'.",
    ),
    (
        "search_deals",
        {"amount_min": "ten"},
        "Invalid arguments for search_deals: amount_min: must be a decimal amount like 1500.00.",
    ),
    (
        "search_deals",
        {"amount_max": "1,500"},
        "Invalid arguments for search_deals: amount_max: must be a decimal amount like 1500.00.",
    ),
    (
        "search_deals",
        {"currency": "dollars"},
        "Invalid arguments for search_deals: currency: must be an ISO-4217 currency code like USD.",
    ),
    (
        "search_invoices",
        {"unpaid": "maybe"},
        "Invalid arguments for search_invoices: unpaid: Input should be a valid boolean, unable to interpret input.",
    ),
    (
        "search_deals",
        {"pipeline": "Sales Pipe"},
        "Error executing tool search_deals: No pipeline 'Sales Pipe'. Did you mean 'Sales Pipeline'? "
        "Pipelines: 'Sales Pipeline', 'Partnerships' (list_pipelines shows their ids).",
    ),
    (
        "search_deals",
        {"stage": "Qualifcation"},
        f"Error executing tool search_deals: No stage 'Qualifcation' in any pipeline. Did you mean 'Qualification'? "
        f"Stages: {SALES_STAGES}, 'Contacted'. Call get_pipeline_board to see stages, or add_stage to create one.",
    ),
    (
        "search_deals",
        {"pipeline": "Sales Pipeline", "stage": "Contacted"},
        f"Error executing tool search_deals: No stage 'Contacted' in pipeline 'Sales Pipeline'. Valid stages: "
        f"{SALES_STAGES}. To use a new stage, add it to the pipeline first. Call get_pipeline_board to see stages, "
        "or add_stage to create one.",
    ),
]
BAD_DATES = [
    ("search_tasks", "due_from", "next tuesday"),
    ("search_tasks", "due_to", "2025-13-01"),
    ("search_deals", "closed_from", "May 2"),
    ("search_invoices", "due_to", "31/12/2025"),
]


@pytest.mark.parametrize(("tool", "arguments", "message"), BAD, ids=[f"{c[0]}{c[1]}" for c in BAD])
async def test_a_bad_filter_value_is_refused_saying_what_is_valid(
    client: Client, tool: str, arguments: dict[str, Any], message: str
) -> None:
    result = await client.call_tool(tool, arguments)

    assert failed(result) == message
    assert result.structured_content is None


@pytest.mark.parametrize(("tool", "argument", "value"), BAD_DATES, ids=[f"{c[0]}-{c[2]}" for c in BAD_DATES])
async def test_a_malformed_date_is_refused_naming_the_argument(
    client: Client, tool: str, argument: str, value: str
) -> None:
    result = await client.call_tool(tool, {argument: value})

    assert failed(result) == f"Invalid arguments for {tool}: {argument}: must be a date like 2026-01-31 (YYYY-MM-DD)."
    assert result.structured_content is None


async def test_a_malformed_id_filter_is_refused_like_a_malformed_record_id(client: Client) -> None:
    message = failed(await client.call_tool("search_contacts", {"account_id": "../accounts"}))

    assert "account_id: no account has the id or name '../accounts'" in message


@pytest.mark.parametrize(
    "query",
    [
        "Ada Lovelace",
        "Lovelace Ada",
        "ada LOVELACE",
        "Ada, Lovelace",
        "  Ada   Lovelace  ",
        "ada analytical",
        "lovelace cto",
    ],
)
async def test_every_word_of_a_query_must_match_some_field_in_any_order(client: Client, query: str) -> None:
    result = await client.call_tool("search_contacts", {"query": query})

    assert labels(ok(result)) == (["Ada Lovelace"] if query != "lovelace cto" else [])
    if query != "lovelace cto":  # the title is not a searched field
        assert text(result).splitlines()[0] == "contacts: 1 of 1; no more."


@pytest.mark.parametrize(
    ("tool", "query", "expected"),
    [
        ("search_contacts", "marie biolabs", ["Marie Curie"]),
        ("search_contacts", "curie biolabs", ["Irene Joliot", "Pierre Curie", "Marie Curie"]),
        ("search_contacts", "hoppersystems grace", ["Grace Hopper"]),
        ("search_deals", "expansion platform", ["Platform expansion"]),
        ("search_leads", "tesla fleet", ["Fleet tracking pilot"]),
        ("search_tasks", "discovery hopper", ["Book discovery call with Hopper Systems"]),
        ("search_invoices", "compliance INV-0004", ["Compliance module – second instalment"]),
    ],
)
async def test_words_may_match_different_fields(client: Client, tool: str, query: str, expected: list[str]) -> None:
    assert labels(await search(client, tool, query=query)) == expected


async def test_a_word_that_matches_nothing_gives_no_rows(client: Client) -> None:
    page = await search(client, "search_contacts", query="Lovelace Zq")

    assert (page["items"], page["total"], page["has_more"]) == ([], 0, False)


async def test_a_multi_word_query_with_no_match_says_only_that_nothing_matched(client: Client) -> None:
    result = await client.call_tool("search_contacts", {"query": "Lovelace Zq"})

    assert text(result) == "contacts: 0 of 0; no more."
