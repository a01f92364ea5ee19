"""Deletes show their impact first: a preview that deletes nothing and lists what links to the record, then a delete
that needs the preview's token — bound to the tool, the record and the caller, short-lived, valid on any replica
that shares the secret — and says what it left without a link."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from call_results import confirmed, failed, ok, text
from demo_org import IdOf, resolve
from mcp import Client

from lava_crm_mcp.settings import Settings
from lava_crm_mcp.tools import TOOLS
from lava_crm_mcp.tools.confirm import Confirmations, Refusal

pytestmark = pytest.mark.anyio

Connect = Callable[..., Client]
DELETES = [tool.name for tool in TOOLS if tool.tier == "destructive" and tool.name.startswith("delete_")]
SHARED = "a-shared-secret-for-every-replica"
ENGINES = IdOf("accounts", "Analytical Engines Ltd")


async def made(client: Client, tool: str) -> dict[str, Any]:
    """Arguments that name a fresh record (or stage) for a delete tool."""
    noun = tool.removeprefix("delete_")
    if noun == "stage":
        ok(await client.call_tool("add_stage", {"name": "Zq spare"}))
        return {"stage": "Zq spare"}
    gone = f"Zq gone {uuid.uuid4().hex[:6]}"  # each its own: a second identical open task would be refused
    bodies = {
        "contact": {"first_name": "Zq", "last_name": gone},
        "account": {"name": gone},
        "lead": {"title": gone},
        "deal": {"name": gone},
        "task": {"title": gone},
        "case": {"name": gone},
        "invoice": {"invoice_title": gone},
    }
    record = ok(await client.call_tool(f"create_{noun}", bodies[noun]))["record"]
    return {f"{noun}_id": record["id"]}


async def exists(client: Client, tool: str, arguments: dict[str, Any]) -> bool:
    if tool == "delete_stage":
        pipelines = ok(await client.call_tool("list_pipelines", {}))["pipelines"]
        return any(stage["name"] == arguments["stage"] for pipeline in pipelines for stage in pipeline["stages"])
    noun = tool.removeprefix("delete_")
    return not (await client.call_tool(f"get_{noun}", arguments)).is_error


@pytest.mark.parametrize("tool", DELETES)
async def test_a_first_call_deletes_nothing_and_gives_a_token_the_second_call_deletes_once(
    client: Client, tool: str
) -> None:
    arguments = await made(client, tool)

    preview = ok(await client.call_tool(tool, arguments))
    kept = await exists(client, tool, arguments)
    deleted = ok(await client.call_tool(tool, {**arguments, "confirm": preview["confirm"]}))

    assert (preview["outcome"], kept) == ("preview", True)
    assert preview["next_call"].startswith(f"{tool}(")
    assert f"confirm='{preview['confirm']}'" in preview["next_call"]
    assert deleted["outcome"] == "deleted"
    assert not await exists(client, tool, arguments)


async def test_a_replayed_stage_token_finds_no_stage_to_delete(client: Client) -> None:
    arguments = await made(client, "delete_stage")
    token = ok(await client.call_tool("delete_stage", arguments))["confirm"]
    ok(await client.call_tool("delete_stage", {**arguments, "confirm": token}))

    message = failed(await client.call_tool("delete_stage", {**arguments, "confirm": token}))

    assert "No stage 'Zq spare' in pipeline 'Sales Pipeline'." in message


@pytest.mark.parametrize("tool", [name for name in DELETES if name != "delete_stage"])
async def test_a_replayed_token_deletes_nothing_more(client: Client, tool: str) -> None:
    arguments = await made(client, tool)
    token = ok(await client.call_tool(tool, arguments))["confirm"]
    ok(await client.call_tool(tool, {**arguments, "confirm": token}))

    replay = await client.call_tool(tool, {**arguments, "confirm": token})

    assert ok(replay)["outcome"] == "gone"
    assert text(replay).endswith("Nothing changed.")


async def test_the_preview_of_an_account_lists_what_links_to_it_and_the_delete_what_it_left_unlinked(
    client: Client,
) -> None:
    account = (await resolve(client, {"id": ENGINES}))["id"]

    preview = ok(await client.call_tool("delete_account", {"account_id": account}))
    done = ok(await confirmed(client, "delete_account", {"account_id": account}))

    counts = {group["kind"]: group["total"] for group in preview["links"]}
    assert counts == {"contacts": 3, "deals": 2, "tasks": 2, "cases": 1, "invoices": 1}
    assert {group["kind"]: group["total"] for group in done["links"]} == counts
    contacts = next(group for group in preview["links"] if group["kind"] == "contacts")
    assert {item["name"] for item in contacts["items"]} <= {"Ada Lovelace", "Charles Babbage", "Mary Somerville"}
    assert contacts["more"] is None
    ada = ok(await client.call_tool("search_contacts", {"query": "Ada Lovelace"}))["items"][0]
    assert ada["account"] is None


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("not-a-token", "is not a confirm token this server issues"),
        (
            "2.delete_contact.9999999999.aaaaaaaaaa.bbbbbbbbbb.cccccccccc." + "0" * 32,
            "was not issued by this deployment",
        ),
    ],
    ids=["malformed", "forged"],
)
async def test_a_bad_token_is_refused_and_deletes_nothing(client: Client, token: str, says: str) -> None:
    arguments = await made(client, "delete_contact")

    message = failed(await client.call_tool("delete_contact", {**arguments, "confirm": token}))

    assert says in message
    assert "without confirm for a fresh preview" in message
    assert await exists(client, "delete_contact", arguments)


async def test_a_token_confirms_only_the_record_and_the_tool_it_was_issued_for(client: Client) -> None:
    first, second = await made(client, "delete_task"), await made(client, "delete_task")
    token = ok(await client.call_tool("delete_task", first))["confirm"]
    account = await made(client, "delete_account")

    other_record = failed(await client.call_tool("delete_task", {**second, "confirm": token}))
    other_tool = failed(await client.call_tool("delete_account", {**account, "confirm": token}))

    assert "was issued for another record" in other_record
    assert "was issued for another tool" in other_tool
    assert await exists(client, "delete_task", second)
    assert await exists(client, "delete_account", account)


async def test_a_token_is_bound_to_its_tool_even_for_the_same_record_id(client: Client) -> None:
    """Only the tool differs: the token of delete_contact for contact X does not confirm delete_account for id X."""
    contact = await made(client, "delete_contact")
    token = ok(await client.call_tool("delete_contact", contact))["confirm"]

    refused = failed(await client.call_tool("delete_account", {"account_id": contact["contact_id"], "confirm": token}))

    assert "The confirm token was issued for another tool. Nothing was done." in refused
    assert await exists(client, "delete_contact", contact)


async def test_two_servers_sharing_the_secret_accept_each_others_tokens_and_others_do_not(connect: Connect) -> None:
    shared = Settings(confirm_secret=SHARED)
    async with connect(shared) as first, connect(shared) as second, connect(Settings()) as stranger:
        arguments = await made(first, "delete_lead")
        token = ok(await first.call_tool("delete_lead", arguments))["confirm"]

        refused = failed(await stranger.call_tool("delete_lead", {**arguments, "confirm": token}))
        accepted = ok(await second.call_tool("delete_lead", {**arguments, "confirm": token}))

    assert "was not issued by this deployment" in refused
    assert accepted["outcome"] == "deleted"


async def test_with_confirmation_off_one_call_deletes_and_says_what_it_left(connect: Connect) -> None:
    async with connect(Settings(confirm_deletes=False)) as client:
        account = (await resolve(client, {"id": ENGINES}))["id"]
        result = await client.call_tool("delete_account", {"account_id": account})
        still = await exists(client, "delete_account", {"account_id": account})

    assert (ok(result)["outcome"], still) == ("deleted", False)
    assert text(result).startswith(f"Deleted account Analytical Engines Ltd ({account}). Left without this link: ")


def test_each_way_a_token_can_fail_has_its_own_refusal() -> None:
    now = [1_000_000.0]
    tokens = Confirmations(b"k" * 32, seconds=300, clock=lambda: now[0])
    token, expires = tokens.issue("", "delete_deal", "d-1", "local:ada:", "shown-1")

    def why(**changed: str) -> Refusal | None:
        call = {"tool": "delete_deal", "caller": "local:ada:", "record": "d-1", "shown": "shown-1"} | changed
        return tokens.refusal(token, "", call.pop("tool"), call.pop("caller"), **call)

    assert why() is None
    assert why(tool="delete_lead") is Refusal.TOOL
    assert why(caller="token:bob:") is Refusal.CALLER
    assert why(record="d-2") is Refusal.RECORD
    assert why(shown="shown-2") is Refusal.CHANGED
    assert Confirmations(b"x" * 32).refusal(token, "", "delete_deal", "local:ada:") is Refusal.FOREIGN
    assert (
        tokens.refusal(token.replace(str(expires), str(expires + 600)), "", "delete_deal", "local:ada:")
        is Refusal.FOREIGN
    )
    assert tokens.refusal("2.delete_deal.x", "", "delete_deal", "local:ada:") is Refusal.MALFORMED
    now[0] = expires + 1
    assert why() is Refusal.EXPIRED
    assert len({refusal.value for refusal in Refusal}) == len(Refusal)  # every refusal reads differently


@pytest.mark.parametrize(
    ("noun", "link"),
    [("contact", "contacts"), ("deal", "opportunity"), ("lead", "lead"), ("case", "case"), ("account", "account")],
)
async def test_a_preview_names_the_task_that_would_lose_its_link_and_the_delete_leaves_it_unlinked(
    client: Client, noun: str, link: str
) -> None:
    arguments = await made(client, f"delete_{noun}")
    record_id = next(iter(arguments.values()))
    value = [record_id] if link == "contacts" else record_id
    task = ok(await client.call_tool("create_task", {"title": "Zq depends", link: value}))["record"]["id"]

    first = await client.call_tool(f"delete_{noun}", arguments)
    preview = ok(first)
    done = ok(await client.call_tool(f"delete_{noun}", {**arguments, "confirm": preview["confirm"]}))
    after = ok(await client.call_tool("get_task", {"task_id": task}))["record"]

    tasks = next(group for group in preview["links"] if group["kind"] == "tasks")
    assert (tasks["total"], [item["name"] for item in tasks["items"]]) == (1, ["Zq depends"])
    assert "tasks: 1 (Zq depends)" in text(first)
    assert next(group for group in done["links"] if group["kind"] == "tasks")["total"] == 1
    assert after[link] in (None, [])


def linked(result: dict[str, Any], kind: str) -> int:
    return next(group["total"] for group in result["links"] if group["kind"] == kind)


async def test_a_preview_that_no_longer_holds_is_refused_with_the_fresh_preview_and_a_new_token(client: Client) -> None:
    account = (await resolve(client, {"id": ENGINES}))["id"]
    first = ok(await client.call_tool("delete_account", {"account_id": account}))
    ada = (await resolve(client, {"id": IdOf("contacts", "Ada Lovelace")}))["id"]  # linked to her: no money stranded
    ok(await client.call_tool("create_deal", {"name": "Zq third deal", "account": account, "contacts": [ada]}))

    stale = ok(await client.call_tool("delete_account", {"account_id": account, "confirm": first["confirm"]}))
    still_there = await exists(client, "delete_account", {"account_id": account})
    done = ok(await client.call_tool("delete_account", {"account_id": account, "confirm": stale["confirm"]}))

    assert (stale["outcome"], still_there) == ("preview", True)
    assert linked(stale, "deals") == linked(first, "deals") + 1
    assert stale["note"].startswith("Nothing was done: what the preview showed changed since it was issued.")
    assert stale["confirm"] != first["confirm"]
    assert done["outcome"] == "deleted"


async def test_only_the_caller_who_saw_the_preview_can_confirm_it(connect: Connect) -> None:
    async with connect(Settings(local_user="alice")) as alice, connect(Settings(local_user="bob")) as bob:
        arguments = await made(alice, "delete_lead")
        token = ok(await alice.call_tool("delete_lead", arguments))["confirm"]

        refused = failed(await bob.call_tool("delete_lead", {**arguments, "confirm": token}))
        kept = await exists(bob, "delete_lead", arguments)
        accepted = ok(await alice.call_tool("delete_lead", {**arguments, "confirm": token}))

    assert "was issued to another caller" in refused
    assert (kept, accepted["outcome"]) == (True, "deleted")
