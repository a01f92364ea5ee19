"""Paging and board shapes, adapter against the sandbox in both dialects: `drf` pages by `page` (20 a page, `next`
links), `django-crm` by `limit`/`offset` and ignores `page` (nested offsets, sectioned accounts and leads, a
`columns`/`items` kanban). Every row of a 45-record list is read exactly once, whichever the dialect."""

from __future__ import annotations

from typing import Any

import pytest

from lava_crm_mcp.crm import RESOURCES, CrmClient

pytestmark = pytest.mark.anyio

ROWS = 45
BODIES: dict[str, Any] = {
    "contacts": lambda n: {"first_name": f"Walker{n:02}", "last_name": "Pager"},
    "accounts": lambda n: {"name": f"Walker{n:02} Pager", "status": "open" if n % 3 else "close"},
    "leads": lambda n: {"title": f"Walker{n:02} Pager", "status": "assigned" if n % 4 else "closed"},
    "opportunities": lambda n: {"name": f"Walker{n:02} Pager"},
    "tasks": lambda n: {"title": f"Walker{n:02} Pager"},
    "cases": lambda n: {"name": f"Walker{n:02} Pager"},
    "invoices": lambda n: {"invoice_title": f"Walker{n:02} Pager", "amount": "10.00", "currency": "EUR"},
}
PATHS = [spec.path for spec in RESOURCES]


async def _fill(crm: CrmClient, path: str) -> None:
    for n in range(ROWS):
        await crm.records(path).create(BODIES[path](n))


@pytest.mark.parametrize("path", PATHS)
async def test_walking_every_slice_of_a_45_record_list_reads_each_row_once(crm: CrmClient, path: str) -> None:
    await _fill(crm, path)
    records, ids, start, slices = crm.records(path), list[str](), 0, 0

    while start is not None and slices < 10:
        page = await records.slice(start, {})
        ids += [row.id for row in page.items]
        start, slices = page.next_start, slices + 1

    assert start is None
    assert len(ids) == len(set(ids)) == ROWS


@pytest.mark.parametrize("path", PATHS)
async def test_following_search_cursors_returns_every_match_once_with_a_true_total(crm: CrmClient, path: str) -> None:
    await _fill(crm, path)
    ids: list[str] = []
    found = await crm.search(path, text="Pager", limit=7)
    totals = {found.total}
    for _ in range(10):
        ids += [row.id for row in found.items]
        assert not found.repeated
        if found.next is None:
            break
        found = await crm.search(path, text="Pager", cursor=str(found.next), limit=7)
        totals.add(found.total)

    assert found.next is None
    assert len(ids) == len(set(ids)) == ROWS
    assert totals <= {ROWS, None}


async def test_a_list_of_45_pipelines_reads_each_pipeline_once(crm: CrmClient) -> None:
    for n in range(ROWS - 1):
        await crm.pipelines.create(f"Walker {n:02}")

    pipelines = await crm.pipelines.list()

    assert len({p.id for p in pipelines}) == len(pipelines) == ROWS


async def test_a_deal_moves_by_stage_id_and_name_and_the_board_shows_it(crm: CrmClient) -> None:
    made = (await crm.records("opportunities").create({"name": "Kanban deal"})).record
    assert made is not None
    board = await crm.pipelines.board()
    qualified = next(stage for stage in board.stages if stage.name == "Qualification")

    await crm.pipelines.move_deal(made.id, qualified.id)
    after_id = await crm.pipelines.board()
    move = await crm.pipelines.move_deal_to_stage(made.id, "Won")
    after_name = await crm.pipelines.board()

    assert [card.id for card in next(s for s in after_id.stages if s.id == qualified.id).deals] == [made.id]
    assert (move.from_stage and move.from_stage.name, move.to_stage.name) == ("Qualification", "Won")
    won = next(stage for stage in after_name.stages if stage.name == "Won")
    assert (won.stage_type, [card.id for card in won.deals]) == ("won", [made.id])


async def test_the_default_board_names_its_pipeline_so_a_stage_can_be_added_to_it(crm: CrmClient) -> None:
    default = (await crm.pipelines.board()).pipeline

    stage = await crm.pipelines.add_stage(default.id, "Demo booked")

    board = await crm.pipelines.board()
    assert default.is_default
    assert stage.id in [s.id for s in board.stages]
    assert next(s.name for s in board.stages if s.id == stage.id) == "Demo booked"
