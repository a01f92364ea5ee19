"""Names next to ids: search rows and get_* records name every record they reference, in structured content and
in the text, and a reference that cannot be read shows its id alone.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from call_results import confirmed, ok, text
from demo_org import IdOf, ids, label, resolve, search
from mcp import Client
from mcp.types import CallToolResult
from starlette.applications import Starlette

pytestmark = pytest.mark.anyio

REFERENCES = ("account", "contact", "contacts", "opportunity", "lead", "case", "pipeline", "stage")


def link(row: dict[str, Any], key: str) -> tuple[str, str | None]:
    return row[key]["id"], row[key]["name"]


def links(value: Any) -> list[dict[str, Any]]:
    """A reference field as a list of {id, name} (a single reference as a list of one)."""
    return cast(list[dict[str, Any]], value) if isinstance(value, list) else [value]


def text_row(result: CallToolResult, row_id: str) -> str:
    return next(line for line in text(result).splitlines() if line.startswith(f"{row_id} | "))


async def test_deal_rows_name_their_account_pipeline_and_stage_and_give_the_status(client: Client) -> None:
    accounts = await ids(client, "accounts")
    sales = ok(await client.call_tool("list_pipelines", {}))["pipelines"][0]
    result = await client.call_tool("search_deals", {"query": "platform expansion"})

    (row,) = ok(result)["items"]
    assert link(row, "account") == (accounts["Analytical Engines Ltd"], "Analytical Engines Ltd")
    assert link(row, "pipeline") == (sales["id"], "Sales Pipeline")
    assert link(row, "stage") == (sales["stages"][0]["id"], "Prospecting")
    assert row["status"] == "open"
    assert text_row(result, row["id"]) == (
        f"{row['id']} | Analytical Engines Ltd – Platform expansion | 48000.00 GBP | 20 | Prospecting | open | "
        f"Analytical Engines Ltd | - | {row['updated_at']}"
    )


@pytest.mark.parametrize(
    ("tool", "query", "account"),
    [
        ("search_contacts", "lovelace", "Analytical Engines Ltd"),
        ("search_contacts", "katherine", None),
        ("search_cases", "sensor feed", "Turing Logistics GmbH"),
        ("search_invoices", "INV-0003", "Franklin Health Partners"),
    ],
)
async def test_rows_name_their_account(client: Client, tool: str, query: str, account: str | None) -> None:
    accounts = await ids(client, "accounts")
    result = await client.call_tool(tool, {"query": query})

    (row,) = ok(result)["items"]
    assert row["account"] == ({"id": accounts[account], "name": account} if account else None)
    headers = text(result).splitlines()[1].split(" | ")
    assert text_row(result, row["id"]).split(" | ")[headers.index("account")] == (account or "-")


async def test_task_rows_name_their_parent_deal_case_lead_account_or_contact(client: Client) -> None:
    for title, links in [
        ("Zq account task", {"account": IdOf("accounts", "Curie Biolabs")}),
        ("Zq contact task", {"contacts": [IdOf("contacts", "Ada Lovelace")]}),
    ]:
        ok(await client.call_tool("create_task", {"title": title, **await resolve(client, links)}))
    result = await client.call_tool("search_tasks", {"limit": 50})

    parents = {label(row): row["parent"] for row in ok(result)["items"]}
    expected = {
        "Send platform expansion proposal": ("deal", "deals", "Platform expansion", "Analytical Engines Ltd – "),
        "Reproduce export timeout": ("case", "cases", "Dashboard export times out", ""),
        "Call Barbara Liskov about the migration": ("lead", "leads", "Data warehouse migration", ""),
        "Zq account task": ("account", "accounts", "Curie Biolabs", ""),
        "Zq contact task": ("contact", "contacts", "Ada Lovelace", ""),
    }
    for title, (kind, plural, name, prefix) in expected.items():
        record_id = (await ids(client, plural))[name]
        assert parents[title] == {"kind": kind, "id": record_id, "name": prefix + name}
        row = next(line for line in text(result).splitlines() if f"| {title} |" in line)
        assert row.endswith(f" | {kind}: {prefix}{name}")


@pytest.mark.parametrize(
    ("noun", "record", "named"),
    [
        (
            "deal",
            IdOf("deals", "Platform expansion"),
            {
                "account": "Analytical Engines Ltd",
                "contacts": ["Ada Lovelace", "Charles Babbage"],
                "pipeline": "Sales Pipeline",
                "stage": "Prospecting",
            },
        ),
        (
            "task",
            IdOf("tasks", "Reproduce export timeout"),
            {
                "account": "Analytical Engines Ltd",
                "contacts": ["Ada Lovelace", "Mary Somerville"],
                "case": "Dashboard export times out",
            },
        ),
        ("task", IdOf("tasks", "Call Barbara Liskov about the migration"), {"lead": "Data warehouse migration"}),
        (
            "task",
            IdOf("tasks", "Prepare risk dashboard demo"),
            {
                "account": "Noether Insurance AG",
                "contacts": ["Emmy Noether", "Olga Taussky"],
                "opportunity": "Noether Insurance AG – Risk dashboards",
            },
        ),
        (
            "invoice",
            IdOf("invoices", "Compliance module – first instalment"),
            {"account": "Franklin Health Partners", "contact": "Rosalind Franklin"},
        ),
        (
            "case",
            IdOf("cases", "Sensor feed outage"),
            {"account": "Turing Logistics GmbH", "contacts": ["Gordon Welchman"]},
        ),
        ("contact", IdOf("contacts", "Grace Hopper"), {"account": "Hopper Systems Inc"}),
    ],
    ids=lambda value: value.label if isinstance(value, IdOf) else None,
)
async def test_a_record_names_every_reference_as_name_and_id(
    client: Client, noun: str, record: IdOf, named: dict[str, Any]
) -> None:
    arguments = await resolve(client, {f"{noun}_id": record})
    result = await client.call_tool(f"get_{noun}", arguments)

    got = ok(result)["record"]
    references = {key: links(got[key]) for key in REFERENCES if got.get(key)}
    names = {key: [item["name"] for item in value] for key, value in references.items()}
    assert names == {key: value if isinstance(value, list) else [value] for key, value in named.items()}
    for key, value in references.items():
        shown = ", ".join(f"{item['name']} ({item['id']})" for item in value)
        assert f"; {key}={shown}" in text(result)


async def test_a_renamed_account_shows_its_new_name_on_the_records_that_reference_it(client: Client) -> None:
    account = (await ids(client, "accounts"))["Curie Biolabs"]
    await search(client, "search_contacts", account_id=account)  # the names are read (and cached) once

    ok(await client.call_tool("update_account", {"account_id": account, "name": "Curie Laboratories"}))

    page = await search(client, "search_contacts", account_id=account)
    assert {row["account"]["name"] for row in page["items"]} == {"Curie Laboratories"}
    marie = await resolve(client, {"contact_id": IdOf("contacts", "Marie Curie")})
    assert ok(await client.call_tool("get_contact", marie))["record"]["account"]["name"] == "Curie Laboratories"


async def test_a_deleted_account_no_longer_appears_on_its_contacts(client: Client) -> None:
    made = ok(await client.call_tool("create_account", {"name": "Zq Short-lived"}))["record"]
    contact = ok(
        await client.call_tool("create_contact", {"first_name": "Zq", "last_name": "Orphan", "account": made["id"]})
    )
    assert contact["record"]["account"] == {"id": made["id"], "name": "Zq Short-lived"}

    ok(await confirmed(client, "delete_account", {"account_id": made["id"]}))

    result = await client.call_tool("get_contact", {"contact_id": contact["record"]["id"]})
    assert ok(result)["record"]["account"] is None
    assert made["id"] not in text(result)


async def test_a_reference_the_crm_cannot_resolve_shows_the_id_without_a_name(
    client: Client, sandbox: Starlette
) -> None:
    ok(await client.call_tool("list_pipelines", {}))  # the first call seeds the demo org
    # A CRM that leaves dangling references behind: remove the account row itself, not through the API.
    sandbox.state.sandbox.conn.execute(
        "DELETE FROM records WHERE kind = 'accounts' AND json_extract(data, '$.name') = 'Franklin Health Partners'"
    )

    rows = await client.call_tool("search_contacts", {"query": "rosalind"})
    (row,) = ok(rows)["items"]
    gone = row["account"]["id"]
    record = await client.call_tool("get_contact", {"contact_id": row["id"]})

    assert row["account"] == {"id": gone, "name": None}
    assert text_row(rows, row["id"]).endswith(f" | {gone}")
    assert ok(record)["record"]["account"] == {"id": gone, "name": None}
    assert f"; account={gone};" in text(record)
