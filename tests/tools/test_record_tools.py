"""search/get/create/update/delete for the seven record nouns: one success and one failure path each, table-driven."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from call_results import confirmed, failed, ok, text
from mcp import Client

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Noun:
    """A record noun: a valid create payload (its name contains 'Zephyr'), a bad value and what the error must say."""

    noun: str
    create: dict[str, Any]
    invalid: dict[str, Any]
    says: tuple[str, ...]
    update: dict[str, Any]

    @property
    def plural(self) -> str:
        return f"{self.noun}s"

    @property
    def id_key(self) -> str:
        return f"{self.noun}_id"

    @property
    def required(self) -> str:
        return next(iter(self.create))

    def __str__(self) -> str:
        return self.noun


NOUNS = [
    Noun(
        "contact",
        {"first_name": "Zephyrine", "last_name": "Hopper", "primary_email": "zephyrine@example.com"},
        {"primary_email": "zephyrine-at-example"},
        ("primary_email", "email address like name@example.com"),
        {"mobile_number": "+1 555 0100"},
    ),
    Noun(
        "account",
        {"name": "Zephyr Widgets", "industry": "SOFTWARE"},
        {"industry": "SPACE"},
        ("industry", "'SOFTWARE'", "'OTHER'"),
        {"website": "https://zephyr.example"},
    ),
    Noun(
        "lead",
        {"title": "Zephyr inbound", "status": "assigned", "source": "email"},
        {"status": "hot"},
        ("status", "'assigned'", "'converted'"),
        {"probability": 40},
    ),
    Noun(
        "deal",
        {"name": "Zephyr expansion", "amount": "1500.00", "currency": "USD"},
        {"currency": "dollars"},
        ("currency", "ISO-4217 currency code like USD"),
        {"amount": "2500.50"},
    ),
    Noun(
        "task",
        {"title": "Call Zephyr back", "priority": "High"},
        {"priority": "Urgent"},
        ("priority", "'Low'", "'Medium'", "'High'"),
        {"status": "In Progress"},
    ),
    Noun(
        "case",
        {"name": "Zephyr sensor outage", "case_type": "Incident"},
        {"case_type": "Bug"},
        ("case_type", "'Question'", "'Incident'", "'Problem'"),
        {"priority": "Urgent"},
    ),
    Noun(
        "invoice",
        {"invoice_title": "Zephyr licence", "amount": "10.00", "currency": "EUR"},
        {"amount": "ten euros"},
        ("amount", "decimal amount like 1500.00"),
        {"status": "Sent"},
    ),
]


@pytest.fixture(params=NOUNS, ids=str)
def case(request: pytest.FixtureRequest) -> Noun:
    return request.param


async def create(client: Client, case: Noun) -> dict[str, Any]:
    return ok(await client.call_tool(f"create_{case.noun}", case.create))["record"]


async def test_search_returns_a_compact_page_of_matching_rows(client: Client, case: Noun) -> None:
    made = await create(client, case)

    result = await client.call_tool(f"search_{case.plural}", {"query": "zephyr"})

    page = ok(result)
    assert {key: page[key] for key in ("kind", "has_more", "total", "next_call", "note")} == {
        "kind": case.plural,
        "has_more": False,
        "total": 1,
        "next_call": None,
        "note": None,
    }
    assert [row["id"] for row in page["items"]] == [made["id"]]
    head, columns, row = text(result).splitlines()
    assert head.startswith(f"{case.plural}: 1 of 1; no more")
    assert columns.startswith("id | ")
    assert row.startswith(f"{made['id']} | ")


async def test_search_without_a_query_lists_the_demo_records(client: Client, case: Noun) -> None:
    page = ok(await client.call_tool(f"search_{case.plural}", {}))

    assert page["total"] > 0
    assert len(page["items"]) == min(page["total"], 20)
    assert page["has_more"] is (page["total"] > 20)
    assert all(row["id"] for row in page["items"])


async def test_search_refuses_a_limit_out_of_range_naming_the_argument(client: Client, case: Noun) -> None:
    message = failed(await client.call_tool(f"search_{case.plural}", {"limit": 0}))

    assert message.startswith(f"Invalid arguments for search_{case.plural}: limit:")
    assert "greater than or equal to 1" in message


async def test_search_refuses_a_cursor_it_did_not_give(client: Client, case: Noun) -> None:
    message = failed(await client.call_tool(f"search_{case.plural}", {"cursor": "page two"}))

    assert message == (
        f"Error executing tool search_{case.plural}: cursor 'page two' is not valid: pass the cursor exactly as a "
        "previous result gave it."
    )


async def test_get_returns_the_full_record(client: Client, case: Noun) -> None:
    made = await create(client, case)

    result = await client.call_tool(f"get_{case.noun}", {case.id_key: made["id"]})

    got = ok(result)
    assert got["kind"] == case.noun
    assert got["record"] == made
    assert text(result).startswith(f"{case.noun} {made['id']}: ")


async def test_get_of_an_unknown_id_says_it_was_not_found_and_which_search_finds_ids(
    client: Client, case: Noun
) -> None:
    result = await client.call_tool(f"get_{case.noun}", {case.id_key: "no-such-id"})

    message = failed(result)
    assert f"{case.noun} 'no-such-id' was not found" in message
    assert message.endswith(f"Find ids with search_{case.plural}.")
    assert result.structured_content is None


async def test_get_of_a_value_that_is_no_id_looks_it_up_as_a_name_never_as_a_path(client: Client, case: Noun) -> None:
    message = failed(await client.call_tool(f"get_{case.noun}", {case.id_key: "../../etc/passwd"}))

    assert message == (
        f"Error executing tool get_{case.noun}: {case.id_key}: no {case.noun} has the id or name '../../etc/passwd'. "
        f"Find it with search_{case.plural}(query='../../etc/passwd') and pass its id."
    )


async def test_create_returns_the_new_record_and_where_to_find_it(client: Client, case: Noun) -> None:
    result = await client.call_tool(f"create_{case.noun}", case.create)

    created = ok(result)
    assert created["kind"] == case.noun
    assert created["find_with"] == f"search_{case.plural}"
    assert created["record"]["id"]
    assert {key: created["record"][key] for key in case.create} == case.create
    assert text(result).startswith(f"Created {case.noun} {created['record']['id']}: ")


async def test_create_with_an_invalid_value_names_the_field_and_what_is_valid(client: Client, case: Noun) -> None:
    message = failed(await client.call_tool(f"create_{case.noun}", case.create | case.invalid))

    assert message.startswith(f"Invalid arguments for create_{case.noun}: ")
    for fragment in case.says:
        assert fragment in message
    assert ok(await client.call_tool(f"search_{case.plural}", {"query": "zephyr"}))["total"] == 0


async def test_create_without_a_required_field_names_it(client: Client, case: Noun) -> None:
    message = failed(await client.call_tool(f"create_{case.noun}", {}))

    assert f"{case.required}: Field required" in message


async def test_create_with_an_unknown_argument_names_it_and_the_valid_ones(client: Client, case: Noun) -> None:
    message = failed(await client.call_tool(f"create_{case.noun}", case.create | {"nickname": "Zeph"}))

    assert message.startswith(f"Unknown argument(s) 'nickname' for create_{case.noun}. Valid arguments: ")
    assert all(key in message for key in case.create)


async def test_update_changes_only_the_given_fields(client: Client, case: Noun) -> None:
    made = await create(client, case)

    result = await client.call_tool(f"update_{case.noun}", {case.id_key: made["id"], **case.update})

    updated = ok(result)["record"]
    assert {key: updated[key] for key in case.update} == case.update
    unchanged = {key: value for key, value in case.create.items() if key not in case.update}
    assert {key: updated[key] for key in unchanged} == unchanged
    assert text(result).startswith(f"{case.noun} {made['id']}: ")
    reread = ok(await client.call_tool(f"get_{case.noun}", {case.id_key: made["id"]}))["record"]
    assert {key: reread[key] for key in case.update} == case.update


async def test_update_of_an_unknown_id_says_which_search_finds_ids(client: Client, case: Noun) -> None:
    message = failed(await client.call_tool(f"update_{case.noun}", {case.id_key: "no-such-id", **case.update}))

    assert f"{case.noun} 'no-such-id' was not found" in message
    assert message.endswith(f"Find ids with search_{case.plural}.")


async def test_update_with_no_field_to_change_says_what_to_pass(client: Client, case: Noun) -> None:
    made = await create(client, case)

    message = failed(await client.call_tool(f"update_{case.noun}", {case.id_key: made["id"]}))

    assert message.endswith(f"Nothing to update: pass {case.id_key} and at least one field to change.")


async def test_delete_removes_the_record(client: Client, case: Noun) -> None:
    made = await create(client, case)

    preview = await client.call_tool(f"delete_{case.noun}", {case.id_key: made["id"]})
    still = ok(await client.call_tool(f"get_{case.noun}", {case.id_key: made["id"]}))
    result = await client.call_tool(f"delete_{case.noun}", {case.id_key: made["id"], "confirm": ok(preview)["confirm"]})

    assert (ok(preview)["outcome"], still["record"]["id"]) == ("preview", made["id"])
    assert text(preview).startswith(f"Nothing deleted yet. {case.noun} ")
    assert {key: ok(result)[key] for key in ("kind", "id", "outcome")} == {
        "kind": case.noun,
        "id": made["id"],
        "outcome": "deleted",
    }
    assert text(result).startswith(f"Deleted {case.noun} ")
    failed(await client.call_tool(f"get_{case.noun}", {case.id_key: made["id"]}))


async def test_deleting_what_is_already_gone_changes_nothing_and_says_so(client: Client, case: Noun) -> None:
    made = await create(client, case)
    first = ok(await confirmed(client, f"delete_{case.noun}", {case.id_key: made["id"]}))

    again = await client.call_tool(f"delete_{case.noun}", {case.id_key: made["id"]})

    assert first["outcome"] == "deleted"
    assert (ok(again)["outcome"], ok(again)["confirm"]) == ("gone", None)
    assert text(again) == (
        f"No {case.noun} {made['id']} to delete: it is already gone (or the id is wrong). Nothing changed."
    )
