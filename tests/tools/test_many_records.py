"""Many records at once, through the tools on the demo sandbox: a 100-row sync planned then applied (and applied
again with nothing to do), ambiguous rows never written, a failure on one row leaving the others applied, a batch
move of 20 deals, tasks completed in one call, records read by id across kinds, and one search over the CRM."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from call_results import failed, ok, text
from demo_org import ids
from mcp import Client
from starlette.applications import Starlette
from tool_clients import Connect, crm_client

from lava_crm_mcp.settings import Settings

pytestmark = pytest.mark.anyio


def person(number: int, **extra: Any) -> dict[str, Any]:
    return {"first_name": "Zq", "last_name": f"Person{number:03}", "email": f"zq{number:03}@example.com"} | extra


async def count(client: Client, plural: str) -> int:
    return int(ok(await client.call_tool(f"search_{plural}", {"limit": 1}))["total"])


async def test_a_hundred_rows_are_planned_then_applied_and_a_second_apply_changes_nothing(client: Client) -> None:
    rows = [person(n, title="Buyer") for n in range(98)]
    rows += [{"first_name": "Ada", "last_name": "Lovelace", "email": "ADA.LOVELACE@analytical-engines.co.uk"}]
    rows += [{"first_name": "Grace", "last_name": "Hopper", "phone": "+1 (703) 555-0301", "title": "Rear Admiral"}]
    before = await count(client, "contacts")

    plan = ok(await client.call_tool("sync_contacts", {"rows": rows}))
    untouched = await count(client, "contacts")
    applied = ok(await client.call_tool("sync_contacts", {"rows": rows, "confirm": plan["confirm"]}))
    again = ok(await client.call_tool("sync_contacts", {"rows": rows}))

    actions = [row["action"] for row in plan["rows"]]
    assert (plan["outcome"], untouched) == ("preview", before)
    assert actions.count("create") == 98
    assert actions[98:] == ["unchanged", "update"]
    assert plan["rows"][98]["action"] == "unchanged"  # the same email in other letter case
    assert plan["rows"][99]["changes"] == {"title": ["VP Engineering", "Rear Admiral"]}  # matched by phone
    assert applied["outcome"] == "applied"
    assert [row["outcome"] for row in applied["rows"]].count("created") == 98
    assert all(row["id"] for row in applied["rows"])
    assert await count(client, "contacts") == before + 98
    assert (again["outcome"], {row["action"] for row in again["rows"]}) == ("nothing to do", {"unchanged"})
    assert again["confirm"] is None
    assert "Nothing to write" in text(await client.call_tool("sync_contacts", {"rows": rows}))


async def test_a_sync_updates_only_the_fields_that_differ_and_matches_by_phone_in_any_format(client: Client) -> None:
    rows = [
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada.lovelace@analytical-engines.co.uk",
            "title": "CTO",
        },
        {"first_name": "Charles", "last_name": "Babbage", "phone": "+442079460102", "title": "Chairman"},
    ]

    plan = ok(await client.call_tool("sync_contacts", {"rows": rows}))

    assert [(row["action"], row["name"], row["changes"]) for row in plan["rows"]] == [
        ("unchanged", "Ada Lovelace", {}),
        ("update", "Charles Babbage", {"title": ["Founder", "Chairman"]}),
    ]


async def test_ambiguous_and_contradicting_rows_are_never_written(client: Client) -> None:
    contacts = await ids(client, "contacts")
    ok(
        await client.call_tool(
            "create_contact", {"first_name": "Zq", "last_name": "Twin", "mobile_number": "0555 123 456"}
        )
    )
    ok(
        await client.call_tool(
            "create_contact", {"first_name": "Zq", "last_name": "Twinn", "mobile_number": "555123456"}
        )
    )
    rows = [
        {"first_name": "Zq", "last_name": "Someone", "phone": "+44 555 123 456"},
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@elsewhere.example",
            "account": "Analytical Engines Ltd",
        },
        {"first_name": "Zq", "last_name": "New", "account": "No Such Company"},
        person(1),
        person(1, title="Again"),
    ]
    before = await count(client, "contacts")

    plan = ok(await client.call_tool("sync_contacts", {"rows": rows}))
    applied = ok(await client.call_tool("sync_contacts", {"rows": rows, "confirm": plan["confirm"]}))

    decided = {row["row"]: row for row in plan["rows"] if row["action"] == "decide"}
    assert set(decided) == {1, 2, 3, 5}
    assert "have this phone number: merge them first (e.g. merge_contacts(keep_id=" in decided[1]["why"]
    assert len(decided[1]["candidates"]) == 2
    assert "another email" in decided[2]["why"]
    ada = contacts["Ada Lovelace"]
    assert f"update_contact(contact_id='{ada}', primary_email='ada@elsewhere.example')" in decided[2]["why"]
    assert "another: create_contact(first_name='Ada', last_name='Lovelace', primary_email=" in decided[2]["why"]
    assert [candidate["id"] for candidate in decided[2]["candidates"]] == [ada]
    assert "no account has this name" in decided[3]["why"]
    assert decided[5]["why"] == "the same contact as row 4: send one row for it"
    assert [row["outcome"] for row in applied["rows"]] == ["skipped", "skipped", "skipped", "created", "skipped"]
    assert await count(client, "contacts") == before + 1


async def test_a_row_repeating_a_row_to_decide_is_decided_too_and_nothing_is_written(client: Client) -> None:
    namesake = {"first_name": "Ada", "last_name": "Lovelace", "account": "Analytical Engines Ltd"}
    rows = [
        namesake | {"email": "ada@elsewhere.example"},
        {"first_name": "Ada", "last_name": "L.", "email": "ADA@elsewhere.example"},
    ]

    plan = ok(await client.call_tool("sync_contacts", {"rows": rows}))

    assert [row["action"] for row in plan["rows"]] == ["decide", "decide"]
    assert plan["rows"][1]["why"] == "the same contact as row 1: send one row for it"
    assert (plan["outcome"], plan.get("confirm")) == ("nothing to do", None)
    assert plan["summary"].endswith("Nothing to write until the rows to decide are settled (each says how).")


class FailingOne(httpx.AsyncBaseTransport):
    """The sandbox, except that creating the contact with this email fails: refused (400) or not taken (429)."""

    def __init__(self, app: Starlette, email: str, status: int) -> None:
        self.inner, self.email, self.status = httpx.ASGITransport(app=app), email, status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and self.email.encode() in request.content:
            return httpx.Response(self.status, json={"primary_email": ["This address is blocked."]})
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (400, "fix rows 3 first (the CRM refused them; see each)"),
        (429, "resend rows 3 as they are (the CRM could not take them then)"),
    ],
)
async def test_a_row_the_crm_refuses_fails_alone_and_the_result_says_which_rows_to_resend(
    connect: Connect, sandbox: Starlette, status: int, said: str
) -> None:
    rows = [person(n) for n in range(5)]
    async with crm_client(FailingOne(sandbox, "zq002@example.com", status)) as crm, connect(crm=crm) as client:
        plan = ok(await client.call_tool("sync_contacts", {"rows": rows}))
        result = await client.call_tool("sync_contacts", {"rows": rows, "confirm": plan["confirm"]})
        again = ok(await client.call_tool("sync_contacts", {"rows": rows}))

    applied = ok(result)
    assert [row["outcome"] for row in applied["rows"]] == ["created", "created", "failed", "created", "created"]
    assert applied["rows"][2]["detail"]
    assert applied["resend"] == f"Not written: {said}; then sync those rows again."
    assert [row["action"] for row in again["rows"]] == ["unchanged", "unchanged", "create", "unchanged", "unchanged"]


async def test_an_account_sync_matches_names_up_to_case_and_accents(client: Client) -> None:
    rows = [{"name": "CURIE BIOLABS", "website": "https://curie.example"}, {"name": "Zq Nouvelle Société"}]

    plan = ok(await client.call_tool("sync_accounts", {"rows": rows}))
    applied = ok(await client.call_tool("sync_accounts", {"rows": rows, "confirm": plan["confirm"]}))
    again = ok(await client.call_tool("sync_accounts", {"rows": [{"name": "zq nouvelle societe"}]}))

    assert [row["action"] for row in plan["rows"]] == ["update", "create"]
    assert [row["outcome"] for row in applied["rows"]] == ["updated", "created"]
    assert (again["outcome"], again["rows"][0]["action"]) == ("nothing to do", "unchanged")


async def test_twenty_deals_move_in_one_call_each_with_its_outcome_and_timeline(client: Client) -> None:
    made = [
        ok(await client.call_tool("create_deal", {"name": f"Zq batch {n}", "amount": "10.00"}))["record"]["id"]
        for n in range(19)
    ]
    already = (await ids(client, "deals"))["Lab data pipeline"]  # in Proposal already

    moved = ok(
        await client.call_tool(
            "move_deals_to_stage", {"deal_ids": [*made, already], "stage": "Proposal", "reason": "Q4 push"}
        )
    )
    board = ok(await client.call_tool("get_pipeline_board", {"stage": "Proposal", "limit": 50}))
    timeline = ok(await client.call_tool("get_deal", {"deal_id": made[0]}))["related"]["timeline"]["items"]

    outcomes = {item["id"]: item["outcome"] for item in moved["items"]}
    assert moved["summary"] == "20 deals: 19 moved to Proposal, 1 unchanged."
    assert outcomes[already] == "unchanged"
    assert all(outcomes[ident] == "done" for ident in made)
    assert set(made) <= {deal["id"] for deal in board["stages"][0]["deals"]}
    assert (timeline[0]["reason"], "batch" in timeline[0]["details"]) == ("Q4 push", True)


async def test_a_batch_move_reports_a_bad_id_and_still_moves_the_others(client: Client) -> None:
    good = (await ids(client, "deals"))["Platform expansion"]

    result = await client.call_tool("move_deals_to_stage", {"deal_ids": [good, "no-such-deal"], "stage": "Won"})

    moved = ok(result)

    assert [item["outcome"] for item in moved["items"]] == ["done", "failed"]
    assert moved.get("resend") is None  # a resend would be refused again
    assert "Not to resend as they are: 1 refused" in text(result)


class BusyFor(httpx.AsyncBaseTransport):
    """The sandbox, except that moving this deal meets a busy CRM (429): surely not applied, worth a resend."""

    def __init__(self, app: Starlette, deal: str) -> None:
        self.inner, self.deal = httpx.ASGITransport(app=app), deal

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and f"/deals/{self.deal}/move/" in request.url.path:
            return httpx.Response(429, json={"detail": "Slow down."})
        return await self.inner.handle_async_request(request)


async def test_a_batch_resends_only_what_the_crm_could_not_take_then(connect: Connect, sandbox: Starlette) -> None:
    async with connect() as client:
        deals = await ids(client, "deals")
    busy, good = deals["Team licences"], deals["Platform expansion"]
    async with crm_client(BusyFor(sandbox, busy)) as crm, connect(crm=crm) as client:
        arguments = {"deal_ids": [good, busy, "no-such-deal"], "stage": "Negotiation"}
        result = await client.call_tool("move_deals_to_stage", arguments)

    moved = ok(result)
    assert [item["outcome"] for item in moved["items"]] == ["done", "failed", "failed"]
    assert moved["resend"] == f"move_deals_to_stage(deal_ids=['{busy}'], stage='Negotiation')"
    assert "1 refused" in text(result)


async def test_completing_many_tasks_in_one_call_records_when_each_was_done(client: Client) -> None:
    tasks = await ids(client, "tasks")
    chosen = [tasks["Send platform expansion proposal"], tasks["Prepare risk dashboard demo"]]
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    result = await client.call_tool(
        "update_tasks", {"task_ids": chosen, "status": "Completed"}, progress_callback=on_progress
    )
    day = ok(await client.call_tool("search_tasks", {"limit": 1}))["today"]
    done = ok(await client.call_tool("search_tasks", {"completed_from": day}))

    assert ok(result)["summary"] == "2 tasks: 2 updated."
    assert {row["id"] for row in done["items"]} == set(chosen)
    assert progress == [1, 2]


async def test_records_of_any_kinds_are_read_by_id_in_one_call(client: Client) -> None:
    contact = (await ids(client, "contacts"))["Ada Lovelace"]
    deal = (await ids(client, "deals"))["Platform expansion"]
    invoice = (await ids(client, "invoices"))["Starter plan – annual"]

    result = await client.call_tool("get_records", {"ids": [deal, contact, invoice, "no-such-id"]})

    found = ok(result)
    assert "last activity" not in text(result)  # a column nothing fills here
    assert {(item["kind"], item["id"]) for item in found["items"]} == {
        ("opportunities", deal),
        ("contacts", contact),
        ("invoices", invoice),
    }
    assert found["missing"] == ["no-such-id"]
    assert (
        next(item for item in found["items"] if item["id"] == deal)["row"]["account"]["name"]
        == "Analytical Engines Ltd"
    )


async def test_one_search_finds_a_word_across_five_kinds(client: Client) -> None:
    ok(await client.call_tool("create_contact", {"first_name": "Zq", "last_name": "Renewal"}))
    ok(await client.call_tool("create_lead", {"title": "Zq renewal interest"}))
    ok(await client.call_tool("create_deal", {"name": "Zq renewal 2027"}))
    ok(await client.call_tool("create_task", {"title": "Zq prepare renewal"}))
    ok(await client.call_tool("create_case", {"name": "Zq renewal question"}))

    found = ok(await client.call_tool("search_crm", {"query": "renewal"}))

    totals = {hits["kind"]: hits["total"] for hits in found["nouns"]}
    assert totals == {"contacts": 1, "accounts": 0, "leads": 1, "deals": 1, "tasks": 1, "cases": 1, "invoices": 0}


@pytest.mark.parametrize("number", ["+44 20 7946 0101", "+442079460101", "020 7946 0101", "79460101"])
async def test_a_phone_number_is_found_in_any_format(client: Client, number: str) -> None:
    found = ok(await client.call_tool("search_contacts", {"query": number}))

    assert [(row["first_name"], row["mobile_number"]) for row in found["items"]] == [("Ada", "+44 20 7946 0101")]


async def test_a_batch_of_more_than_fifty_is_refused_before_anything_is_done(client: Client) -> None:
    message = failed(await client.call_tool("move_deals_to_stage", {"deal_ids": ["d"] * 51, "stage": "Won"}))

    assert "deal_ids" in message


async def test_trusted_automation_applies_a_sync_in_one_call_when_confirmation_is_off(connect: Connect) -> None:
    async with connect(Settings(confirm_deletes=False)) as client:
        applied = ok(await client.call_tool("sync_contacts", {"rows": [person(1), person(2)]}))
        again = ok(await client.call_tool("sync_contacts", {"rows": [person(1), person(2)]}))

    assert [row["outcome"] for row in applied["rows"]] == ["created", "created"]
    assert [row["outcome"] for row in again["rows"]] == ["unchanged", "unchanged"]
