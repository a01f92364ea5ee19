"""The money guard, through the delete tools on the demo sandbox: deleting an account or contact that would leave an
unpaid invoice or an open deal linked to nobody is refused (listing them with their value and the calls that
reassign them) until the call says reassign_to (they move first) or leave_unlinked."""

from __future__ import annotations

from typing import Any

import pytest
from call_results import failed, ok, text
from mcp import Client

pytestmark = pytest.mark.anyio


async def made(client: Client, tool: str, body: dict[str, Any]) -> str:
    return str(ok(await client.call_tool(tool, body))["record"]["id"])


async def invoice_of(client: Client, **links: str) -> str:
    body = {"invoice_title": "Zq overdue", "amount": "1234.00", "currency": "EUR", "status": "Sent"}
    return await made(client, "create_invoice", body | {"due_date": "2026-01-31"} | links)


async def test_an_unpaid_invoice_blocks_an_orphaning_delete_and_is_listed_with_its_value(client: Client) -> None:
    account = await made(client, "create_account", {"name": "Zq Orphan Co"})
    invoice = await invoice_of(client, account=account)

    result = await client.call_tool("delete_account", {"account_id": account})
    still = ok(await client.call_tool("get_account", {"account_id": account}))

    blocked = ok(result)
    assert (blocked["outcome"], blocked["confirm"]) == ("blocked", None)
    assert [(item["kind"], item["id"], item["value"]) for item in blocked["stranded"]] == [
        ("invoice", invoice, "1234.00 EUR, Sent, due 2026-01-31")
    ]
    assert f"update_invoice(invoice_id='{invoice}', account='<another account id>')" in text(result)
    assert "reassign_to=" in text(result)
    assert "leave_unlinked=true" in text(result)
    assert still["record"]["id"] == account


async def test_reassign_to_moves_the_money_first_then_deletes(client: Client) -> None:
    account = await made(client, "create_account", {"name": "Zq Closing Co"})
    heir = await made(client, "create_account", {"name": "Zq Heir Co"})
    invoice = await invoice_of(client, account=account)
    deal = await made(client, "create_deal", {"name": "Zq open deal", "account": account, "amount": "500.00"})
    arguments = {"account_id": account, "reassign_to": heir}

    preview = ok(await client.call_tool("delete_account", arguments))
    deleted = ok(await client.call_tool("delete_account", arguments | {"confirm": preview["confirm"]}))
    moved_invoice = ok(await client.call_tool("get_invoice", {"invoice_id": invoice}))["record"]
    moved_deal = ok(await client.call_tool("get_deal", {"deal_id": deal}))["record"]

    assert (preview["outcome"], preview["settled"]) == ("preview", f"moved to account {heir} first")
    assert {item["id"] for item in preview["stranded"]} == {invoice, deal}
    assert deleted["outcome"] == "deleted"
    assert (moved_invoice["account"]["id"], moved_deal["account"]["id"]) == (heir, heir)
    assert failed(await client.call_tool("get_account", {"account_id": account}))


async def test_leave_unlinked_deletes_and_leaves_the_invoice_with_no_account(client: Client) -> None:
    account = await made(client, "create_account", {"name": "Zq Gone Co"})
    invoice = await invoice_of(client, account=account)
    arguments = {"account_id": account, "leave_unlinked": True}

    preview = ok(await client.call_tool("delete_account", arguments))
    ok(await client.call_tool("delete_account", arguments | {"confirm": preview["confirm"]}))
    left = ok(await client.call_tool("get_invoice", {"invoice_id": invoice}))["record"]

    assert preview["settled"] == "left linked to no account or contact"
    assert (left["account"], left["contact"]) == (None, None)


async def test_a_confirm_for_another_choice_than_the_preview_does_nothing(client: Client) -> None:
    account = await made(client, "create_account", {"name": "Zq Choice Co"})
    heir = await made(client, "create_account", {"name": "Zq Choice Heir"})
    await invoice_of(client, account=account)

    preview = ok(await client.call_tool("delete_account", {"account_id": account, "leave_unlinked": True}))
    other = {"account_id": account, "reassign_to": heir, "confirm": preview["confirm"]}
    again = ok(await client.call_tool("delete_account", other))

    assert again["outcome"] == "preview"
    assert ok(await client.call_tool("get_account", {"account_id": account}))["record"]["id"] == account


async def test_money_still_linked_to_someone_else_or_paid_does_not_block(client: Client) -> None:
    account = await made(client, "create_account", {"name": "Zq Linked Co"})
    contact = await made(client, "create_contact", {"first_name": "Zq", "last_name": "Payer"})
    await invoice_of(client, account=account, contact=contact)
    paid = {"invoice_title": "Zq paid", "amount": "10.00", "status": "Paid", "account": account}
    ok(await client.call_tool("create_invoice", paid))

    preview = ok(await client.call_tool("delete_account", {"account_id": account}))

    assert (preview["outcome"], preview["stranded"]) == ("preview", [])


async def test_an_open_deal_whose_only_link_is_the_contact_blocks_the_contact_delete(client: Client) -> None:
    contact = await made(client, "create_contact", {"first_name": "Zq", "last_name": "Sole"})
    deal = await made(client, "create_deal", {"name": "Zq sole deal", "contacts": [contact], "amount": "99.00"})

    blocked = ok(await client.call_tool("delete_contact", {"contact_id": contact}))

    assert blocked["outcome"] == "blocked"
    assert blocked["stranded"][0]["id"] == deal
    assert "add_contact_ids=['<another contact id>']" in blocked["stranded"][0]["reassign"]


async def test_a_reassign_to_itself_or_to_nothing_is_refused(client: Client) -> None:
    account = await made(client, "create_account", {"name": "Zq Self Co"})
    await invoice_of(client, account=account)

    itself = failed(await client.call_tool("delete_account", {"account_id": account, "reassign_to": account}))
    nowhere = failed(await client.call_tool("delete_account", {"account_id": account, "reassign_to": "no-such-1"}))
    both = failed(
        await client.call_tool("delete_account", {"account_id": account, "reassign_to": "x-1", "leave_unlinked": True})
    )

    assert "name another account" in itself
    assert "reassign_to: no account 'no-such-1'" in nowhere
    assert "not both" in both
