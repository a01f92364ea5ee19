"""Duplicates found by each rule and merges that leave nothing behind, through the tools on the demo sandbox: an
email hidden behind a zero-width space, a phone in another format, the same name at the same account, a name that
differs only by an accent; a merge moves every kind of linked record onto the kept one, fills its empty fields,
writes its timeline and deletes the merged record."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from call_results import failed, ok
from demo_org import ids
from mcp import Client
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import SANDBOX_TOKEN

pytestmark = pytest.mark.anyio


async def plant(sandbox: Starlette, path: str, body: dict[str, Any]) -> str:
    """A record written straight to the CRM, as another app (or an import) would, past this server's checks."""
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox), base_url="http://crm.test") as http:
        response = await http.post(f"/api/{path}/", json=body, headers=headers)
    response.raise_for_status()
    return str(response.json()["id"])


async def groups(client: Client, noun: str) -> list[tuple[set[str], list[str]]]:
    found = ok(await client.call_tool("find_duplicates", {"noun": noun}))
    return [({item["name"] for item in group["records"]}, group["reasons"]) for group in found["groups"]]


def reasons_for(found: list[tuple[set[str], list[str]]], *names: str) -> list[str]:
    return next(reasons for group, reasons in found if set(names) <= group)


async def test_an_email_behind_a_zero_width_space_is_found_as_a_duplicate(client: Client, sandbox: Starlette) -> None:
    ada = ok(await client.call_tool("search_contacts", {"query": "Ada Lovelace"}))["items"][0]
    await plant(
        sandbox,
        "contacts",
        {"first_name": "A.", "last_name": "Lovelace", "primary_email": "\u200b" + ada["primary_email"]},
    )

    found = await groups(client, "contacts")

    assert "same email" in " ".join(reasons_for(found, "Ada Lovelace", "A. Lovelace"))


async def test_a_phone_number_in_another_format_is_found_as_a_duplicate(client: Client) -> None:
    ok(
        await client.call_tool(
            "create_contact", {"first_name": "Zq", "last_name": "Switchboard", "mobile_number": "01 55 55 04 01"}
        )
    )

    found = await groups(client, "contacts")

    assert "same phone" in " ".join(reasons_for(found, "Marie Curie", "Zq Switchboard"))


async def test_the_same_name_at_the_same_account_and_a_name_up_to_accents_are_found(client: Client) -> None:
    curie = (await ids(client, "accounts"))["Curie Biolabs"]
    ok(
        await client.call_tool(
            "create_contact",
            {"first_name": "Marie", "last_name": "Curie", "primary_email": "m.curie@example.org", "account": curie},
        )
    )
    ok(
        await client.call_tool(
            "create_contact", {"first_name": "Irène", "last_name": "Joliot", "primary_email": "irene@example.org"}
        )
    )

    found = await groups(client, "contacts")

    assert "same name at the same account" in " ".join(reasons_for(found, "Marie Curie"))
    assert "name" in " ".join(reasons_for(found, "Irene Joliot", "Irène Joliot"))


async def test_accounts_named_alike_are_found(client: Client, sandbox: Starlette) -> None:
    await plant(sandbox, "accounts", {"name": "CURIE  BIOLABS "})

    found = await groups(client, "accounts")

    assert reasons_for(found, "Curie Biolabs", "CURIE  BIOLABS")


async def linked_to_account(client: Client, account: str, contact: str) -> dict[str, str]:
    """One record of every kind that links to the account (and, where it can, to the contact)."""
    made = {
        "deal": ok(
            await client.call_tool("create_deal", {"name": "Zq merge deal", "account": account, "contacts": [contact]})
        ),
        "task": ok(
            await client.call_tool("create_task", {"title": "Zq merge task", "account": account, "contacts": [contact]})
        ),
        "case": ok(
            await client.call_tool("create_case", {"name": "Zq merge case", "account": account, "contacts": [contact]})
        ),
        "invoice": ok(
            await client.call_tool(
                "create_invoice",
                {"invoice_title": "Zq merge invoice", "account": account, "contact": contact, "amount": "100.00"},
            )
        ),
        "activity": ok(
            await client.call_tool(
                "log_activity",
                {"kind": "call", "subject": "Zq merge call", "account_id": account, "contact_id": contact},
            )
        ),
    }
    return {kind: (result.get("record") or result["activity"])["id"] for kind, result in made.items()}


async def test_an_account_merge_moves_every_linked_record_and_deletes_the_merged_account(client: Client) -> None:
    keep = (await ids(client, "accounts"))["Curie Biolabs"]
    gone = ok(
        await client.call_tool("create_account", {"name": "Zq Curie Labs", "website": "https://zq-curie.example"})
    )["record"]["id"]
    contact = ok(
        await client.call_tool("create_contact", {"first_name": "Zq", "last_name": "Merger", "account": gone})
    )["record"]["id"]
    linked = await linked_to_account(client, gone, contact)

    preview = ok(await client.call_tool("merge_accounts", {"keep_id": keep, "merge_id": gone}))
    merged = ok(
        await client.call_tool("merge_accounts", {"keep_id": keep, "merge_id": gone, "confirm": preview["confirm"]})
    )
    deals = ok(await client.call_tool("search_deals", {"account_id": keep, "query": "Zq merge"}))["items"]
    tasks = ok(await client.call_tool("search_tasks", {"account_id": keep, "query": "Zq merge"}))["items"]
    activities = ok(
        await client.call_tool("search_tasks", {"account_id": keep, "kind": "activity", "query": "Zq merge"})
    )["items"]
    cases = ok(await client.call_tool("search_cases", {"account_id": keep, "query": "Zq merge"}))["items"]
    invoices = ok(await client.call_tool("search_invoices", {"account_id": keep, "query": "Zq merge"}))["items"]
    people = ok(await client.call_tool("search_contacts", {"account_id": keep, "query": "Merger"}))["items"]
    kept = ok(await client.call_tool("get_account", {"account_id": keep}))
    missing = failed(await client.call_tool("get_account", {"account_id": gone}))

    assert preview["outcome"] == "preview"
    assert {item["kind"]: item["total"] for item in preview["moved"]}.get("contacts") == 1
    assert merged["outcome"] == "merged"
    assert [row["id"] for row in deals] == [linked["deal"]]
    assert [row["id"] for row in tasks] == [linked["task"]]
    assert [row["id"] for row in activities] == [linked["activity"]]
    assert [row["id"] for row in cases] == [linked["case"]]
    assert [row["id"] for row in invoices] == [linked["invoice"]]
    assert [row["id"] for row in people] == [contact]
    assert "not found" in missing.lower() or "no account" in missing.lower()
    assert any("Merged Zq Curie Labs" in entry["what"] for entry in kept["related"]["timeline"]["items"])


async def test_a_contact_merge_moves_its_links_and_fills_empty_fields(client: Client) -> None:
    account = (await ids(client, "accounts"))["Curie Biolabs"]
    keep = ok(
        await client.call_tool("create_contact", {"first_name": "Zq", "last_name": "Keeper", "account": account})
    )["record"]["id"]
    gone = ok(
        await client.call_tool(
            "create_contact",
            {"first_name": "Zq", "last_name": "Keeper", "primary_email": "zq.keeper@example.org", "title": "CTO"},
        )
    )["record"]["id"]
    linked = await linked_to_account(client, account, gone)

    preview = ok(await client.call_tool("merge_contacts", {"keep_id": keep, "merge_id": gone}))
    ok(await client.call_tool("merge_contacts", {"keep_id": keep, "merge_id": gone, "confirm": preview["confirm"]}))
    kept = ok(await client.call_tool("get_contact", {"contact_id": keep}))["record"]
    linked_now = {
        "deal": ok(await client.call_tool("search_deals", {"contact_id": keep}))["items"],
        "task": ok(await client.call_tool("search_tasks", {"contact_id": keep}))["items"],
        "activity": ok(await client.call_tool("search_tasks", {"contact_id": keep, "kind": "activity"}))["items"],
        "case": ok(await client.call_tool("search_cases", {"contact_id": keep}))["items"],
        "invoice": ok(await client.call_tool("search_invoices", {"contact_id": keep}))["items"],
    }

    assert set(preview["filled"]) == {"primary_email", "title"}
    assert (kept["primary_email"], kept["title"]) == ("zq.keeper@example.org", "CTO")
    assert {kind: [row["id"] for row in rows] for kind, rows in linked_now.items()} == {
        kind: [ident] for kind, ident in linked.items()
    }
    assert failed(await client.call_tool("get_contact", {"contact_id": gone}))


async def test_a_merge_of_a_record_with_itself_is_refused(client: Client) -> None:
    keep = (await ids(client, "accounts"))["Curie Biolabs"]

    message = failed(await client.call_tool("merge_accounts", {"keep_id": keep, "merge_id": keep}))

    assert "same record" in message
