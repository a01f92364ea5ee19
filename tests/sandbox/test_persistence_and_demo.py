"""A file database survives restarts; the demo seed is complete, deterministic and provisioned once per org."""

from pathlib import Path
from typing import Any

import pytest

from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio
COUNTS = {"contacts": 25, "accounts": 8, "leads": 10, "opportunities": 14, "tasks": 8, "cases": 5, "invoices": 6}


async def snapshot(client: Any) -> dict[str, Any]:
    lists = {name: (await client.get(f"/api/{name}/", params={"page": 1})).json() for name in COUNTS}
    pipelines = (await client.get("/api/deal-pipelines/")).json()
    boards = [(await client.get("/api/deal-pipelines/board/", params={"pipeline_id": p["id"]})).json()
              for p in pipelines["results"]]  # fmt: skip
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
