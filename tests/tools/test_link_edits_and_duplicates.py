"""Safe writes: list links edited by adding and removing (the rest kept), an account's contacts edited from the
account, no silent duplicates on create, and a second delete that is not an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from call_results import confirmed, failed, ok, text
from demo_org import IdOf, ids, resolve
from mcp import Client
from mcp.types import CallToolResult

pytestmark = pytest.mark.anyio

BAD_ID = "bad id!"
ADA_EMAIL = "ada.lovelace@analytical-engines.co.uk"
ENGINES = IdOf("accounts", "Analytical Engines Ltd")


@dataclass(frozen=True)
class Linked:
    """A demo record with a list of contacts: its noun, label, a text field, its contacts and one it lacks."""

    noun: str
    record: IdOf
    field: str
    contacts: tuple[str, ...]
    other: str

    def __str__(self) -> str:
        return self.noun


ADA, CHARLES, MARY = "Ada Lovelace", "Charles Babbage", "Mary Somerville"
LINKED = [
    Linked("deal", IdOf("deals", "Platform expansion"), "name", (ADA, CHARLES), MARY),
    Linked("task", IdOf("tasks", "Reproduce export timeout"), "title", (ADA, MARY), CHARLES),
    Linked("case", IdOf("cases", "Dashboard export times out"), "name", (ADA, MARY), CHARLES),
]


async def contact_ids(client: Client, *names: str) -> list[str]:
    known = await ids(client, "contacts")
    return [known[name] for name in names]


async def update(client: Client, noun: str, record: IdOf, **arguments: Any) -> CallToolResult:
    return await client.call_tool(f"update_{noun}", await resolve(client, {f"{noun}_id": record, **arguments}))


async def get(client: Client, noun: str, record: IdOf) -> dict[str, Any]:
    return ok(await client.call_tool(f"get_{noun}", await resolve(client, {f"{noun}_id": record})))["record"]


def names(record: dict[str, Any]) -> list[str]:
    return [contact["name"] for contact in record["contacts"]]


async def count(client: Client, plural: str) -> int:
    every = {"kind": "any"} if plural == "tasks" else {}  # tasks: logged activities and timeline entries too
    return int(ok(await client.call_tool(f"search_{plural}", {"limit": 1, **every}))["total"])


@pytest.mark.parametrize("linked", LINKED, ids=str)
async def test_adding_a_contact_keeps_the_contacts_already_linked(client: Client, linked: Linked) -> None:
    [other] = await contact_ids(client, linked.other)

    result = await update(client, linked.noun, linked.record, add_contact_ids=[other])

    assert names(ok(result)["record"]) == [*linked.contacts, linked.other]
    assert ok(result)["notes"] == []
    assert names(await get(client, linked.noun, linked.record)) == [*linked.contacts, linked.other]


@pytest.mark.parametrize("linked", LINKED, ids=str)
async def test_removing_a_contact_removes_only_that_one(client: Client, linked: Linked) -> None:
    [first] = await contact_ids(client, linked.contacts[0])

    result = await update(client, linked.noun, linked.record, remove_contact_ids=[first])

    assert names(ok(result)["record"]) == list(linked.contacts[1:])
    assert names(await get(client, linked.noun, linked.record)) == list(linked.contacts[1:])


@pytest.mark.parametrize("linked", LINKED, ids=str)
async def test_removing_an_unlinked_contact_or_adding_a_linked_one_is_said_in_the_notes(
    client: Client, linked: Linked
) -> None:
    [other, first] = await contact_ids(client, linked.other, linked.contacts[0])

    result = await update(client, linked.noun, linked.record, add_contact_ids=[first], remove_contact_ids=[other])

    assert ok(result)["notes"] == [f"{first} was already linked", f"{other} was not linked"]
    assert text(result).splitlines()[-2:] == [f"({first} was already linked)", f"({other} was not linked)"]
    assert names(await get(client, linked.noun, linked.record)) == list(linked.contacts)


@pytest.mark.parametrize("linked", LINKED, ids=str)
async def test_a_malformed_contact_id_is_refused_before_anything_is_written(client: Client, linked: Linked) -> None:
    [other] = await contact_ids(client, linked.other)
    before = await get(client, linked.noun, linked.record)
    edit = {linked.field: "Zq renamed", "add_contact_ids": [other], "remove_contact_ids": [BAD_ID]}

    message = failed(await update(client, linked.noun, linked.record, **edit))

    assert message == (
        f"Error executing tool update_{linked.noun}: remove_contact_ids 'bad id!' is not a valid id: ids are UUIDs or "
        "short tokens of letters, digits, '-' and '_'. Copy the id exactly from a search or get result."
    )
    assert await get(client, linked.noun, linked.record) == before


@pytest.mark.parametrize("linked", LINKED, ids=str)
async def test_the_old_contacts_argument_of_an_update_is_an_unknown_argument(client: Client, linked: Linked) -> None:
    [other] = await contact_ids(client, linked.other)

    message = failed(await update(client, linked.noun, linked.record, contacts=[other]))

    assert message.startswith(f"Unknown argument(s) 'contacts' for update_{linked.noun}. Valid arguments: ")
    assert message.endswith("add_contact_ids, remove_contact_ids.")
    assert names(await get(client, linked.noun, linked.record)) == list(linked.contacts)


async def test_adding_contacts_to_an_account_sets_their_account(client: Client) -> None:
    katherine, dorothy = await contact_ids(client, "Katherine Johnson", "Dorothy Vaughan")

    result = await update(client, "account", ENGINES, add_contact_ids=[katherine, dorothy])

    assert ok(result)["notes"] == [f"linked contact {katherine}", f"linked contact {dorothy}"]
    for contact in (katherine, dorothy):
        got = ok(await client.call_tool("get_contact", {"contact_id": contact}))["record"]
        assert got["account"] == {"id": ok(result)["record"]["id"], "name": "Analytical Engines Ltd"}


async def test_removing_contacts_from_an_account_clears_only_those_of_that_account(client: Client) -> None:
    mary, grace = await contact_ids(client, "Mary Somerville", "Grace Hopper")

    result = await update(client, "account", ENGINES, remove_contact_ids=[mary, grace])

    assert ok(result)["notes"] == [f"unlinked contact {mary}", f"contact {grace} was not linked"]
    assert text(result).splitlines()[-2:] == [f"(unlinked contact {mary})", f"(contact {grace} was not linked)"]
    mary_now = ok(await client.call_tool("get_contact", {"contact_id": mary}))["record"]
    grace_now = ok(await client.call_tool("get_contact", {"contact_id": grace}))["record"]
    assert (mary_now["account"], grace_now["account"]["name"]) == (None, "Hopper Systems Inc")


async def test_a_malformed_contact_id_on_an_account_is_refused_before_anything_is_written(client: Client) -> None:
    [katherine] = await contact_ids(client, "Katherine Johnson")
    before = await get(client, "account", ENGINES)
    edit = {"website": "https://zq.example", "add_contact_ids": [katherine], "remove_contact_ids": [BAD_ID]}

    message = failed(await update(client, "account", ENGINES, **edit))

    assert "remove_contact_ids 'bad id!' is not a valid id" in message
    assert await get(client, "account", ENGINES) == before
    assert ok(await client.call_tool("get_contact", {"contact_id": katherine}))["record"]["account"] is None


async def test_a_contact_with_an_email_that_exists_in_any_case_is_refused_naming_the_existing_one(
    client: Client,
) -> None:
    [ada] = await contact_ids(client, ADA)
    before = await count(client, "contacts")
    email = ADA_EMAIL.upper()

    message = failed(
        await client.call_tool("create_contact", {"first_name": "Ada", "last_name": "Again", "primary_email": email})
    )

    assert message == (
        f"Error executing tool create_contact: A contact with primary_email '{email}' already exists: Ada Lovelace "
        f"({ada}). Change it with update_contact(contact_id='{ada}', …)."
    )
    assert await count(client, "contacts") == before


async def test_an_account_with_a_name_that_exists_in_another_case_is_refused(client: Client) -> None:
    hopper = (await ids(client, "accounts"))["Hopper Systems Inc"]
    before = await count(client, "accounts")

    message = failed(await client.call_tool("create_account", {"name": "hopper SYSTEMS inc"}))

    assert message == (
        "Error executing tool create_account: An account with name 'hopper SYSTEMS inc' already exists: Hopper "
        f"Systems Inc ({hopper}). Change it with update_account(account_id='{hopper}', …)."
    )
    assert await count(client, "accounts") == before


async def test_a_lead_with_a_known_email_is_refused_unless_a_duplicate_is_allowed(client: Client) -> None:
    tesla = (await ids(client, "leads"))["Fleet tracking pilot"]
    before = await count(client, "leads")
    lead = {"title": "Zq second inquiry", "email": "nikola.tesla@tesla.example"}

    message = failed(await client.call_tool("create_lead", lead))
    assert message.startswith(
        "Error executing tool create_lead: A lead with email 'nikola.tesla@tesla.example' already exists: Fleet "
        f"tracking pilot ({tesla}). Change it with update_lead(lead_id='{tesla}', …)"
    )
    assert await count(client, "leads") == before

    created = ok(await client.call_tool("create_lead", {**lead, "allow_duplicate": True}))

    assert (created["record"]["title"], created["record"]["email"]) == ("Zq second inquiry", lead["email"])
    assert await count(client, "leads") == before + 1


@pytest.mark.parametrize("tool", ["create_contact", "create_account"])
async def test_insisting_on_a_duplicate_is_not_offered_where_the_crm_keeps_it_unique(client: Client, tool: str) -> None:
    schema = next(item for item in (await client.list_tools()).tools if item.name == tool).input_schema

    message = failed(await client.call_tool(tool, {"name": "Zq", "first_name": "Zq", "allow_duplicate": True}))

    assert "allow_duplicate" not in schema["properties"]
    assert "'allow_duplicate'" in message.split(" for ")[0]
    assert "allow_duplicate" not in message.split("Valid arguments:")[1]


async def test_an_email_with_an_invisible_character_is_cleaned_and_cannot_slip_past_the_duplicate_check(
    client: Client,
) -> None:
    [ada] = await contact_ids(client, ADA)
    before = await count(client, "contacts")
    hidden = ADA_EMAIL.replace("@", "\u200b@")

    message = failed(
        await client.call_tool("create_contact", {"first_name": "Ada", "last_name": "Twin", "primary_email": hidden})
    )
    made = ok(await client.call_tool("create_contact", {"first_name": "Zq\u202e", "last_name": "Clean\u200b"}))

    assert f"already exists: Ada Lovelace ({ada})" in message
    assert await count(client, "contacts") == before + 1
    assert (made["record"]["first_name"], made["record"]["last_name"]) == ("Zq", "Clean")


async def test_the_same_create_task_twice_makes_one_task_and_says_how_to_insist(client: Client) -> None:
    task = {"title": "Zq call back", "due_date": "2030-01-02", "contacts": await contact_ids(client, ADA)}
    first = ok(await client.call_tool("create_task", task))["record"]["id"]
    before = await count(client, "tasks")

    again = failed(await client.call_tool("create_task", {**task, "title": "zq CALL back"}))
    other_day = ok(await client.call_tool("create_task", {**task, "due_date": "2030-01-03"}))
    insisted = ok(await client.call_tool("create_task", {**task, "allow_duplicate": True}))

    assert f"An identical open task already exists: Zq call back ({first})" in again
    assert "pass allow_duplicate=true to create another" in again
    assert other_day["record"]["id"] != first
    assert insisted["record"]["id"] != first
    assert await count(client, "tasks") == before + 2


async def test_deleting_a_task_twice_is_not_an_error_and_says_nothing_changed(client: Client) -> None:
    task = ok(await client.call_tool("create_task", {"title": "Zq throwaway"}))["record"]["id"]
    assert ok(await confirmed(client, "delete_task", {"task_id": task}))["outcome"] == "deleted"

    again = await client.call_tool("delete_task", {"task_id": task})

    assert {key: ok(again)[key] for key in ("kind", "id", "outcome", "confirm")} == {
        "kind": "task",
        "id": task,
        "outcome": "gone",
        "confirm": None,
    }
    assert text(again) == f"No task {task} to delete: it is already gone (or the id is wrong). Nothing changed."
