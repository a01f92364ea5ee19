"""A file database survives restarts; the demo seed is complete, deterministic, dated from its seeding day."""

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio
COUNTS = {"contacts": 25, "accounts": 8, "leads": 10, "opportunities": 14, "tasks": 11, "cases": 5, "invoices": 6}


async def snapshot(client: Any) -> dict[str, Any]:
    lists = {name: (await client.get(f"/api/{name}/", params={"page": 1})).json() for name in COUNTS}
    pipelines = (await client.get("/api/deal-pipelines/")).json()
    boards = [
        (await client.get("/api/deal-pipelines/board/", params={"pipeline_id": p["id"]})).json()
        for p in pipelines["results"]
    ]
    return {"lists": lists, "pipelines": pipelines, "boards": boards}


async def test_records_survive_a_restart_on_the_same_file(tmp_path: Path, connect: Any, create: Any) -> None:
    db = tmp_path / "crm.sqlite3"
    first = create_app(db)
    async with connect(first) as client:
        contact = await create(client, "contacts", first_name="Ada", last_name="Lovelace")
        await create(client, "invoices", invoice_title="One")
        board = (await client.get("/api/deal-pipelines/board/")).json()
    first.state.sandbox.close()
    second = create_app(str(db))
    async with connect(second) as client:
        assert (await client.get(f"/api/contacts/{contact['id']}/")).json() == contact
        assert (await create(client, "invoices", invoice_title="Two"))["invoice_number"] == "INV-0002"
        assert (await client.get("/api/deal-pipelines/board/")).json() == board
    second.state.sandbox.close()


async def test_a_file_from_before_stage_entry_times_still_opens_and_dates_old_deals_by_creation(
    tmp_path: Path, connect: Any
) -> None:
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as old:
        old.execute("CREATE TABLE placements (deal_id TEXT PRIMARY KEY, org TEXT, stage_id TEXT, position INTEGER)")
    old.close()
    app = create_app(db, dialect="django-crm")
    async with connect(app) as crm:
        deal = (await crm.post("/api/opportunities/", json={"name": "Old deal"})).json()["id"]
        conn = app.state.sandbox.conn
        conn.execute("UPDATE placements SET entered_at = NULL")
        conn.execute("UPDATE records SET created_at = '2020-01-01T00:00:00.000000Z' WHERE id = ?", (deal,))
        before = datetime.now(UTC).date()
        (card,) = (await crm.get("/api/deal-pipelines/board/")).json()["columns"][0]["items"]
    app.state.sandbox.close()
    days = {(day - date(2020, 1, 1)).days for day in (before, datetime.now(UTC).date())}
    assert card["days_in_stage"] in days


async def test_the_demo_seed_fills_every_resource(connect: Any) -> None:
    async with connect(create_app(seed="demo")) as client:
        for name, count in COUNTS.items():
            assert (await client.get(f"/api/{name}/")).json()["count"] == count, name
        ada = (await client.get("/api/contacts/", params={"search": "lovelace"})).json()["results"][0]
        account = (await client.get(f"/api/accounts/{ada['account']}/")).json()
        assert (ada["first_name"], account["name"]) == ("Ada", "Analytical Engines Ltd")
        default = (await client.get("/api/deal-pipelines/board/")).json()
        counts = {stage["name"]: stage["deal_count"] for stage in default["stages"]}
        assert sum(counts.values()) == 12
        assert counts["Won"] > 0
        assert counts["Lost"] > 0
        assert all(deal["is_closed"] for stage in default["stages"][-2:] for deal in stage["deals"])
        pipelines = (await client.get("/api/deal-pipelines/")).json()["results"]
        partners = next(p for p in pipelines if p["name"] == "Partnerships")
        contacted = next(s for s in partners["stages"] if s["name"] == "Contacted")
        assert contacted["deal_count"] >= 1


async def test_the_demo_seed_is_deterministic_per_org(connect: Any) -> None:
    async with connect(create_app(seed="demo")) as one, connect(create_app(seed="demo")) as two:
        first, second = await snapshot(one), await snapshot(two)
    assert first == second


async def test_open_mode_orgs_each_get_their_own_demo_data(connect: Any) -> None:
    app = create_app(open_mode=True, seed="demo")
    async with connect(app, "alice") as alice, connect(app, "bob") as bob:
        alice_ids = {c["id"] for c in (await alice.get("/api/contacts/")).json()["results"]}
        bob_ids = {c["id"] for c in (await bob.get("/api/contacts/")).json()["results"]}
    assert alice_ids
    assert not alice_ids & bob_ids


async def test_a_seeded_file_db_is_not_seeded_again_after_a_restart(tmp_path: Path, connect: Any) -> None:
    db = tmp_path / "demo.sqlite3"
    first = create_app(db, seed="demo")
    async with connect(first) as client:
        deal = (await client.get("/api/opportunities/")).json()["results"][0]
        await client.delete(f"/api/opportunities/{deal['id']}/")
    first.state.sandbox.close()
    second = create_app(db, seed="demo")
    async with connect(second) as client:
        assert (await client.get("/api/opportunities/")).json()["count"] == COUNTS["opportunities"] - 1
        assert (await client.get("/api/deal-pipelines/")).json()["count"] == 2
    second.state.sandbox.close()


async def test_demo_tasks_and_invoices_are_dated_relative_to_the_seeding_day(connect: Any) -> None:
    today = date(2030, 1, 15)
    async with connect(create_app(seed="demo", today=today)) as client:
        tasks = (await client.get("/api/tasks/", params={"ordering": "due_date"})).json()["results"]
        overdue = await client.get(
            "/api/tasks/", params={"due_date__lte": "2030-01-14", "status__in": "New,In Progress"}
        )
        unpaid = {"status__in": "Sent,Pending"}
        late = await client.get("/api/invoices/", params={**unpaid, "due_date_lte": "2030-01-14"})
        later = await client.get("/api/invoices/", params={**unpaid, "due_date_gte": "2030-01-16"})
    days = [(date.fromisoformat(task["due_date"]) - today).days for task in tasks if task["status"] != "Completed"]
    assert min(days) < 0
    assert days.count(0) == 1
    assert len([day for day in days if 0 < day <= 7]) >= 2
    assert max(days) > 7
    assert all(task["due_date"] < "2030-01-15" for task in tasks if task["status"] == "Completed")
    assert [task["title"] for task in overdue.json()["results"]] == ["Negotiate reporting suite discount"]
    assert [invoice["invoice_title"] for invoice in late.json()["results"]] == ["Compliance module – first instalment"]
    assert [invoice["invoice_title"] for invoice in later.json()["results"]] == ["Consulting hours – May"]


async def test_demo_dates_default_to_the_current_utc_day(connect: Any) -> None:
    before = datetime.now(UTC).date().isoformat()
    async with connect(create_app(seed="demo")) as client:
        page = (await client.get("/api/tasks/", params={"search": "discovery call"})).json()
    after = datetime.now(UTC).date().isoformat()
    assert page["results"][0]["due_date"] in {before, after}


@pytest.mark.parametrize(
    ("task", "resource", "parent", "field"),
    [
        ("Call Barbara Liskov about the migration", "leads", "Data warehouse migration", "lead"),
        ("Reproduce export timeout", "cases", "Dashboard export times out", "case"),
    ],
)
async def test_some_demo_tasks_hang_off_a_lead_or_a_case(
    connect: Any, task: str, resource: str, parent: str, field: str
) -> None:
    async with connect(create_app(seed="demo")) as client:
        (record,) = (await client.get(f"/api/{resource}/", params={"search": parent})).json()["results"]
        children = (await client.get("/api/tasks/", params={field: record["id"]})).json()["results"]
    assert task in [child["title"] for child in children]
