"""The django-crm dialect reads with the newer era's field names and inline references, writes accept both
eras' names, invoice creates answer the invoice, one demo record per kind has an odd probability, and the
board is the family's kanban."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio
Body = dict[str, Any]


async def post(crm: httpx.AsyncClient, path: str, body: Body) -> Body:
    response = await crm.post(path, json=body)
    assert response.status_code in {200, 201}, response.text
    return response.json()


async def detail(crm: httpx.AsyncClient, resource: str, key: str, ident: str) -> Body:
    return (await crm.get(f"/api/{resource}/{ident}/")).json()[key]


async def people(crm: httpx.AsyncClient) -> tuple[str, str]:
    """An account "Acme" and its contact Ada Lovelace: (account id, contact id)."""
    account = (await post(crm, "/api/accounts/", {"name": "Acme"}))["id"]
    body = {"first_name": "Ada", "last_name": "Lovelace", "account": account}
    return account, (await post(crm, "/api/contacts/", body))["id"]


@pytest.mark.parametrize(
    "body",
    [
        {"primary_email": "ada@acme.example", "mobile_number": "+44 1"},
        {"email": "ada@acme.example", "phone": "+44 1"},
    ],
)
async def test_contacts_read_as_email_and_phone_whichever_names_were_written(
    crm: httpx.AsyncClient, body: Body
) -> None:
    ident = (await post(crm, "/api/contacts/", {"first_name": "Ada", "last_name": "Lovelace", **body}))["id"]
    contact = await detail(crm, "contacts", "contact_obj", ident)
    assert (contact["email"], contact["phone"]) == ("ada@acme.example", "+44 1")
    assert not {"primary_email", "mobile_number"} & set(contact)
    listed = (await crm.get("/api/contacts/", params={"email": "ADA@acme"})).json()["results"]
    assert [(row["id"], row["email"]) for row in listed] == [(ident, "ada@acme.example")]


async def test_a_seed_name_wins_over_its_alias_and_updates_take_aliases_too(crm: httpx.AsyncClient) -> None:
    body = {"first_name": "Ada", "last_name": "L", "primary_email": "seed@x.example", "email": "alias@x.example"}
    ident = (await post(crm, "/api/contacts/", body))["id"]
    assert (await crm.patch(f"/api/contacts/{ident}/", json={"phone": "+1 2"})).status_code == 200
    contact = await detail(crm, "contacts", "contact_obj", ident)
    assert (contact["email"], contact["phone"]) == ("seed@x.example", "+1 2")
    bad = await crm.patch(f"/api/contacts/{ident}/", json={"email": "nope"})
    assert bad.json() == {"error": True, "errors": {"primary_email": ["Enter a valid email address."]}}


async def test_the_drf_dialect_ignores_the_newer_names(connect: Any, create: Any) -> None:
    app = create_app()
    async with connect(app) as api:
        contact = await create(api, "contacts", first_name="Ada", last_name="L", email="a@x.example", phone="1")
    app.state.sandbox.close()
    assert (contact["primary_email"], contact["mobile_number"], "email" in contact) == (None, None, False)


@pytest.mark.parametrize("names", [("amount", "account", "contact"), ("total_amount", "account_id", "contact_id")])
async def test_invoices_read_with_totals_due_and_names_and_create_answers_the_invoice(
    crm: httpx.AsyncClient, names: tuple[str, str, str]
) -> None:
    account, contact = await people(crm)
    body = {"invoice_title": "Licences", "status": "Sent", **dict(zip(names, ("12.50", account, contact), strict=True))}
    created = await crm.post("/api/invoices/", json=body)
    invoice = created.json()["invoice"]
    assert (created.status_code, created.json()) == (
        201,
        {"error": False, "message": "Invoice created Successfuly", "invoice": invoice},
    )
    assert invoice == await detail(crm, "invoices", "invoice", invoice["id"])
    expected = ("12.50", "12.50", account, "Acme", contact, "Ada Lovelace")
    keys = ("total_amount", "amount_due", "account", "account_name", "contact", "contact_name")
    assert tuple(invoice[key] for key in keys) == expected
    assert "amount" not in invoice
    await crm.patch(f"/api/invoices/{invoice['id']}/", json={"status": "Paid"})
    listed = (await crm.get("/api/invoices/", params={"account": account})).json()["results"]
    assert [(row["total_amount"], row["amount_due"]) for row in listed] == [("12.50", "0.00")]


async def test_an_invoice_without_references_or_amount_reads_with_empty_names(crm: httpx.AsyncClient) -> None:
    invoice = (await post(crm, "/api/invoices/", {"invoice_title": "Blank"}))["invoice"]
    keys = ("total_amount", "amount_due", "account_name", "contact_name")
    assert tuple(invoice[key] for key in keys) == (None, None, None, None)


@pytest.mark.parametrize("account_name", ["account", "account_id"])
async def test_deals_and_tasks_show_their_account_and_contacts_inline(
    crm: httpx.AsyncClient, account_name: str
) -> None:
    account, contact = await people(crm)
    body = {"name": "Renewal", account_name: account, "contacts": [contact]}
    deal_id = (await post(crm, "/api/opportunities/", body))["id"]
    deal = await detail(crm, "opportunities", "opportunity_obj", deal_id)
    assert deal["account"] == {"id": account, "name": "Acme"}
    assert deal["contacts"] == [{"id": contact, "first_name": "Ada", "last_name": "Lovelace"}]
    listed = (await crm.get("/api/opportunities/", params={"account": account})).json()["opportunities"]
    assert [row["account"] for row in listed] == [{"id": account, "name": "Acme"}]
    await post(crm, "/api/tasks/", {"title": "Call Ada", account_name: account, "contacts": [contact]})
    (task,) = (await crm.get("/api/tasks/", params={"account": account})).json()["tasks"]
    assert (task["account"], task["contacts"]) == ({"id": account, "name": "Acme"}, [contact])
    await post(crm, "/api/tasks/", {"title": "Alone"})
    assert (await crm.get("/api/tasks/", params={"search": "alone"})).json()["tasks"][0]["account"] is None


@pytest.fixture
async def demo(connect: Any) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A django-crm and a drf client of the same demo-seeded org."""
    crm_app, drf_app = (
        create_app(dialect=name, seed="demo", today=date(2026, 1, 15)) for name in ("django-crm", "drf")
    )
    async with connect(crm_app) as crm, connect(drf_app) as api:
        yield crm, api
    crm_app.state.sandbox.close()
    drf_app.state.sandbox.close()


async def test_one_demo_lead_and_one_demo_deal_read_their_probability_as_a_decimal_string(
    demo: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    crm, api = demo
    leads = (await crm.get("/api/leads/", params={"limit": "50"})).json()
    rows = leads["open_leads"]["open_leads"] + leads["close_leads"]["close_leads"]
    assert [(row["title"], row["probability"]) for row in rows if isinstance(row["probability"], str)] == [
        ("Analytics trial signup", "10.5")
    ]
    deals = (await crm.get("/api/opportunities/", params={"limit": "50"})).json()["opportunities"]
    (odd,) = [row for row in deals if isinstance(row["probability"], str)]
    assert (odd["name"], odd["probability"]) == ("Lamarr Wireless – Co-marketing programme", "25.5")
    assert (await detail(crm, "opportunities", "opportunity_obj", odd["id"]))["probability"] == "25.5"
    assert (await api.get(f"/api/opportunities/{odd['id']}/")).json()["probability"] == 25
    await crm.patch(f"/api/opportunities/{odd['id']}/", json={"probability": 40})
    assert (await detail(crm, "opportunities", "opportunity_obj", odd["id"]))["probability"] == 40


async def test_the_board_is_a_kanban_of_columns_and_cards_with_the_account_inline(
    demo: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    crm, api = demo
    board, drf = (
        (await crm.get("/api/deal-pipelines/board/")).json(),
        (await api.get("/api/deal-pipelines/board/")).json(),
    )
    assert (board["mode"], board["pipeline"]) == ("stage", drf["pipeline"])
    assert [(c["id"], c["name"], c["order"], c["stage_type"], c["item_count"]) for c in board["columns"]] == [
        (s["id"], s["name"], s["order"], s["stage_type"], s["deal_count"]) for s in drf["stages"]
    ]
    assert [[card["id"] for card in c["items"]] for c in board["columns"]] == [
        [deal["id"] for deal in s["deals"]] for s in drf["stages"]
    ]
    assert board["total_items"] == sum(c["item_count"] for c in board["columns"]) == 12
    card = board["columns"][0]["items"][0]
    keys = {"id", "name", "amount", "currency", "probability", "closed_on", "account", "days_in_stage"}
    assert set(card) == keys
    assert card["account"] == {"id": drf["stages"][0]["deals"][0]["account"], "name": "Analytical Engines Ltd"}
    assert isinstance(card["days_in_stage"], int)
    assert card["days_in_stage"] > 200  # the demo's deals entered their stages in spring 2025


async def test_a_move_shows_on_the_kanban_and_restarts_the_days_in_stage(crm: httpx.AsyncClient) -> None:
    account, _ = await people(crm)
    first = (await post(crm, "/api/opportunities/", {"name": "First", "account": account}))["id"]
    second = (await post(crm, "/api/opportunities/", {"name": "Second"}))["id"]
    columns = (await crm.get("/api/deal-pipelines/board/")).json()["columns"]
    assert [card["id"] for card in columns[0]["items"]] == [first, second]
    won = next(column["id"] for column in columns if column["stage_type"] == "won")
    moved = await crm.patch(f"/api/deal-pipelines/deals/{second}/move/", json={"stage_id": won})
    assert moved.json() == {"error": False, "message": "Opportunity Moved Successfully", "id": second}
    board = (await crm.get("/api/deal-pipelines/board/")).json()
    counts = {column["name"]: column["item_count"] for column in board["columns"]}
    assert (counts["Prospecting"], counts["Won"], board["total_items"]) == (1, 1, 2)
    (card,) = next(column["items"] for column in board["columns"] if column["id"] == won)
    assert (card["id"], card["account"], card["closed_on"] is not None) == (second, None, True)
    assert 0 <= card["days_in_stage"] <= 1
    (kept,) = board["columns"][0]["items"]
    assert (kept["account"], kept["probability"]) == ({"id": account, "name": "Acme"}, None)
