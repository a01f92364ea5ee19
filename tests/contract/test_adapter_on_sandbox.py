"""Every adapter method against the sandbox, in both dialects: the tolerant reader proven end to end."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from lava_crm_mcp.crm import (
    RESOURCES,
    CrmAuthError,
    CrmClient,
    CrmInvalid,
    CrmNotFound,
    StageChangeRefused,
    UnknownStage,
    Upstream,
)
from lava_crm_mcp.sandbox import create_app

pytestmark = pytest.mark.anyio

# A minimal valid body per resource, a field to search by, and a partial update.
CASES: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {
    "contacts": (
        {"first_name": "Grace", "last_name": "Hopper", "primary_email": "grace@navy.example"},
        "Hopper",
        {"title": "Rear Admiral"},
    ),
    "accounts": ({"name": "Cobol Systems", "industry": "SOFTWARE"}, "Cobol", {"website": "https://cobol.example"}),
    "leads": (
        {"title": "Compiler rollout", "email": "lead@cobol.example", "status": "assigned"},
        "Compiler",
        {"probability": 40},
    ),
    "opportunities": (
        {"name": "Mainframe renewal", "amount": "1500.00", "currency": "USD"},
        "Mainframe",
        {"probability": 60},
    ),
    "tasks": (
        {"title": "Call Grace", "priority": "High", "due_date": "2026-12-01"},
        "Call Grace",
        {"status": "In Progress"},
    ),
    "cases": ({"name": "Login broken", "priority": "Urgent", "case_type": "Incident"}, "Login", {"status": "Assigned"}),
    "invoices": ({"invoice_title": "Q4 licences", "amount": "999.99", "currency": "EUR"}, "Q4", {"status": "Sent"}),
}


async def _create(crm: CrmClient, path: str) -> str:
    """Create one record and return its id, re-finding it by search when the dialect gave no id."""
    body, term, _ = CASES[path]
    created = await crm.records(path).create(body)
    if created.record is not None:
        return created.record.id
    assert created.message  # django-crm lead/task creates: acknowledged, no id, nothing invented
    found = await crm.records(path).list(search=term)
    assert len(found.items) == 1
    return found.items[0].id


@pytest.mark.parametrize("path", [spec.path for spec in RESOURCES])
async def test_every_record_method_round_trips(crm: CrmClient, path: str) -> None:
    records = crm.records(path)
    record_id = await _create(crm, path)
    body, term, change = CASES[path]

    fetched = await records.get(record_id)
    assert fetched.id == record_id
    assert all(str(getattr(fetched, key)) == str(value) for key, value in body.items())

    page = await records.list(search=term)
    assert [item.id for item in page.items] == [record_id]
    assert page.page == 1
    assert page.has_more is False

    updated = await records.update(record_id, change)
    assert all(getattr(updated, key) == value for key, value in change.items())
    replaced = await records.replace(record_id, {**body, **change})
    assert replaced.id == record_id

    await records.delete(record_id)
    with pytest.raises(CrmNotFound):
        await records.get(record_id)


async def test_lists_paginate_newest_first_with_has_more_and_total(crm: CrmClient) -> None:
    for number in range(23):
        await crm.records("contacts").create({"first_name": f"P{number:02d}", "last_name": "Pager"})
    first = await crm.records("contacts").list(search="Pager")
    second = await crm.records("contacts").list(search="Pager", page=2)
    assert (len(first.items), first.has_more, len(second.items), second.has_more) == (20, True, 3, False)
    assert first.items[0].first_name == "P22"
    assert first.total in (23, None)


async def test_validation_errors_name_the_field(crm: CrmClient) -> None:
    await crm.records("accounts").create({"name": "Dup Corp"})
    with pytest.raises(CrmInvalid) as raised:
        await crm.records("accounts").create({"name": "dup corp"})
    assert "name" in raised.value.fields


async def test_references_to_missing_records_are_rejected(crm: CrmClient) -> None:
    with pytest.raises(CrmInvalid) as raised:
        await crm.records("tasks").create({"title": "Orphan", "account": "00000000-0000-0000-0000-000000000000"})
    assert "account" in raised.value.fields


async def test_pipeline_methods_work_end_to_end(crm: CrmClient) -> None:
    pipelines = await crm.pipelines.list()
    assert [p.name for p in pipelines] == ["Sales Pipeline"]
    created = await crm.pipelines.create("Enterprise")
    assert [s.stage_type for s in created.stages][-2:] == ["won", "lost"]

    stage = await crm.pipelines.add_stage(created.id, "Contacted")
    board = await crm.pipelines.board(created.id)
    assert [s.name for s in board.stages][-3:] == ["Contacted", "Won", "Lost"]
    renamed = await crm.pipelines.rename_stage(stage.id, "Reached out")
    assert (renamed.id, renamed.name) == (stage.id, "Reached out")

    default = await crm.pipelines.board()
    assert default.pipeline.is_default
    await crm.pipelines.delete_stage(stage.id)
    assert "Reached out" not in [s.name for s in (await crm.pipelines.board(created.id)).stages]
    with pytest.raises(CrmInvalid):
        await crm.pipelines.delete_stage(default.stages[-1].id)


async def test_moving_deals_places_them_and_closes_on_won(crm: CrmClient) -> None:
    first = await _create(crm, "opportunities")
    second = (await crm.records("opportunities").create({"name": "Second deal"})).record
    assert second is not None
    board = await crm.pipelines.board()
    proposal = next(s for s in board.stages if s.name == "Proposal")

    await crm.pipelines.move_deal(first, proposal.id)
    moved = await crm.pipelines.move_deal(second.id, proposal.id, above_id=first)
    assert moved.pipeline_stage == proposal.id
    column = next(s for s in (await crm.pipelines.board()).stages if s.id == proposal.id)
    assert [deal.id for deal in column.deals] == [second.id, first]

    move = await crm.pipelines.move_deal_to_stage(first, "  won ")
    assert (move.from_stage and move.from_stage.name, move.to_stage.name) == ("Proposal", "Won")
    assert move.deal.is_closed is True
    reopened = await crm.pipelines.move_deal_to_stage(first, "Negotiation")
    assert reopened.deal.is_closed is False


async def test_stage_names_resolve_only_inside_the_deals_pipeline(crm: CrmClient) -> None:
    deal = await _create(crm, "opportunities")
    other = await crm.pipelines.create("Partners")
    custom = await crm.pipelines.add_stage(other.id, "Intro call")
    for stage in ("Intro call", custom.id):
        with pytest.raises(UnknownStage) as raised:
            await crm.pipelines.move_deal_to_stage(deal, stage)
        assert "Prospecting" in raised.value.valid
        assert "call again with pipeline='Partners'" in str(raised.value)
    across = await crm.pipelines.move_deal_to_stage(deal, custom.id, pipeline="Partners")
    assert (across.pipeline.name, across.deal.pipeline) == ("Partners", other.id)


async def test_stage_writes_on_deals_are_refused_before_any_request(crm: CrmClient) -> None:
    deal = await _create(crm, "opportunities")
    before = await crm.records("opportunities").get(deal)
    with pytest.raises(StageChangeRefused):
        await crm.records("opportunities").update(deal, {"stage": "CLOSED_WON"})
    assert (await crm.records("opportunities").get(deal)).pipeline_stage == before.pipeline_stage


async def test_ping_and_credentials_scope_each_org() -> None:
    app = create_app(open_mode=True)
    base = CrmClient(Upstream("http://sandbox.test", SecretStr("org-a")), transport=httpx.ASGITransport(app=app))
    async with base:
        await base.ping()
        other = base.with_credential(SecretStr("org-b"))
        made = await base.records("contacts").create({"first_name": "Only", "last_name": "InA"})
        assert made.record is not None
        assert (await other.records("contacts").list(search="InA")).items == []
        with pytest.raises(CrmNotFound):
            await other.records("contacts").get(made.record.id)


async def test_an_unknown_token_is_an_auth_error() -> None:
    app = create_app()
    client = CrmClient(Upstream("http://sandbox.test", SecretStr("wrong")), transport=httpx.ASGITransport(app=app))
    async with client:
        with pytest.raises(CrmAuthError):
            await client.records("contacts").list()
