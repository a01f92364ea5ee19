"""The lax sandbox answers as the laxest server of the family, in either dialect: lists ignore search, filters and
order; deals carry no board placement; pipeline stages are `{code, label, kind}`; unknown routes and some errors are
HTML pages; writes are read in the newer era's names only."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.sandbox.__main__ import build_parser
from lava_crm_mcp.sandbox.app import Dialect

pytestmark = pytest.mark.anyio
Body = dict[str, Any]


@pytest.fixture
async def lax(dialect: Dialect) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dialect=dialect, lax=True, seed="demo")
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x", headers=headers) as c:
        yield c
    app.state.sandbox.close()


def rows(body: Body) -> list[Body]:
    """The records of a list reply, in either dialect (contacts: `results`; deals: `opportunities`)."""
    return next(value for key, value in body.items() if key in ("results", "opportunities", "contact_obj_list"))


def record(body: Body) -> Body:
    return body.get("contact_obj") or body.get("opportunity_obj") or body.get("invoice") or body


async def made(lax: httpx.AsyncClient, resource: str, body: Body) -> Body:
    """POST, then the record read back (the django-crm dialect acknowledges with an id, or nests an invoice)."""
    answer = await lax.post(f"/api/{resource}/", json=body)
    assert answer.status_code in (200, 201), answer.text
    ident = record(answer.json())["id"]
    return record((await lax.get(f"/api/{resource}/{ident}/")).json())


async def test_search_filters_and_order_are_ignored(lax: httpx.AsyncClient) -> None:
    everything = (await lax.get("/api/contacts/", params={"limit": 50})).json()
    asked = {"limit": 50, "search": "Lovelace", "email": "nobody@", "account": "a-1", "ordering": "-first_name"}
    filtered = (await lax.get("/api/contacts/", params=asked)).json()

    assert [row["id"] for row in rows(filtered)] == [row["id"] for row in rows(everything)]
    assert filtered["count"] == everything["count"] == 25


async def test_deals_carry_no_placement_but_the_board_still_holds_them(lax: httpx.AsyncClient) -> None:
    deals = rows((await lax.get("/api/opportunities/", params={"limit": 50, "open": "false"})).json())
    one = record((await lax.get(f"/api/opportunities/{deals[0]['id']}/")).json())
    board = (await lax.get("/api/deal-pipelines/board/")).json()
    columns = board.get("stages") or board["columns"]
    cards = [card["id"] for column in columns for card in column.get("deals") or column.get("items")]

    assert all(not {"pipeline", "pipeline_stage", "is_closed"} & set(deal) for deal in [*deals, one])
    assert "stage" in one  # the legacy enum is still there; it is not where the deal sits
    assert cards


async def test_pipeline_stages_are_listed_as_code_label_and_kind(lax: httpx.AsyncClient) -> None:
    listed = (await lax.get("/api/deal-pipelines/")).json()
    pipelines = listed.get("results") or listed["pipelines"]
    stages = pipelines[0]["stages"]

    assert [(stage["label"], stage["kind"]) for stage in stages][-2:] == [("Won", "won"), ("Lost", "lost")]
    assert all({"code", "label", "kind"} <= set(stage) and "id" not in stage for stage in stages)


async def test_unknown_routes_and_a_wrong_method_answer_html(lax: httpx.AsyncClient) -> None:
    unknown = await lax.get("/api/nothing-here/")
    wrong = await lax.delete("/api/contacts/")

    assert (unknown.status_code, unknown.headers["content-type"].split(";")[0]) == (404, "text/html")
    assert "<h1>Not Found</h1>" in unknown.text
    assert (wrong.status_code, wrong.headers["content-type"].split(";")[0]) == (405, "text/html")
    assert "allow" in wrong.headers
    missing = await lax.get("/api/contacts/00000000-0000-0000-0000-000000000000/")
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/json")


async def test_a_contact_is_stored_with_the_newer_names_only(lax: httpx.AsyncClient) -> None:
    seed = await made(lax, "contacts", {"first_name": "Ada", "last_name": "A", "primary_email": "a@x.example"})
    newer = await made(lax, "contacts", {"first_name": "Ada", "last_name": "B", "email": "b@x.example", "phone": "+1"})

    assert (seed.get("email"), seed.get("primary_email")) == (None, None)
    assert (newer.get("email") or newer.get("primary_email"), newer.get("phone") or newer.get("mobile_number")) == (
        "b@x.example",
        "+1",
    )


async def test_an_invoice_needs_account_id_and_contact_id_and_reads_total_amount(lax: httpx.AsyncClient) -> None:
    contact = next(row for row in rows((await lax.get("/api/contacts/")).json()) if row.get("account"))
    account = contact["account"]
    refused = await lax.post(
        "/api/invoices/", json={"invoice_title": "Q3", "account": account, "contact": contact["id"]}
    )
    body = {"invoice_title": "Q3", "account_id": account, "contact_id": contact["id"], "amount": "5.00"}
    plain = await made(lax, "invoices", body)
    total = await made(lax, "invoices", {**body, "amount": None, "total_amount": "7.50"})

    assert refused.status_code == 400
    assert (await lax.get("/api/invoices/")).status_code == 200  # only a create needs them
    errors = refused.json().get("errors", refused.json())
    assert errors == {"account_id": ["This field is required."], "contact_id": ["This field is required."]}
    assert plain["account"] == account
    assert (plain.get("total_amount") or plain.get("amount")) is None  # `amount` is the seed's name: not read
    assert (total.get("total_amount") or total.get("amount")) == "7.50"


def test_the_command_line_takes_lax() -> None:
    assert (build_parser().parse_args([]).lax, build_parser().parse_args(["--lax"]).lax) == (False, True)
