"""Deals whose records lack `pipeline`, `pipeline_stage` and `is_closed` are placed from the boards: rows, a deal,
status and stage filters and moves are right, the boards are read once (kept briefly per credential), the legacy
`stage` enum is never taken for the board stage, and pipeline lists of `{code, label, kind}` stages read and move."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from lava_crm_mcp.crm import CrmClient, CrmInvalid

pytestmark = pytest.mark.anyio

CRM = "https://lava-crm-api.fly.dev/api"


def stage(ident: str, name: str, kind: str = "open") -> dict[str, Any]:
    return {"id": ident, "name": name, "stage_type": kind}


SALES = {"id": "p-1", "name": "Sales", "is_default": True}
PARTNERS = {"id": "p-2", "name": "Partners", "is_default": False}
STAGES = {
    "p-1": [stage("s-1", "Prospecting"), stage("s-2", "Won", "won"), stage("s-3", "Lost", "lost")],
    "p-2": [stage("s-11", "Prospecting"), stage("s-12", "Won", "won"), stage("s-13", "Lost", "lost")],
}
SEATS = {"d-1": "s-2", "d-2": "s-11", "d-3": "s-1"}  # where the boards hold each deal
DEALS = [
    {"id": "d-1", "name": "Won, legacy enum says otherwise", "stage": "PROSPECTING"},
    {"id": "d-2", "name": "Partner deal", "stage": "PROSPECTING"},
    {"id": "d-3", "name": "Sales deal", "stage": "CLOSED_WON"},
]


class Crm:
    """A CRM of the laxest kind: deals without placement, filters ignored, boards the only truth (and a tally)."""

    def __init__(self, pipelines: list[dict[str, Any]] | None = None) -> None:
        self.pipelines = pipelines or [{**SALES, "stages": STAGES["p-1"]}, {**PARTNERS, "stages": STAGES["p-2"]}]
        self.boards: dict[str, int] = {}
        self.moves: list[dict[str, Any]] = []
        self.move_answer: Any = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/")
        if path == "deal-pipelines/":
            return httpx.Response(200, json={"count": 2, "next": None, "results": self.pipelines})
        if path == "deal-pipelines/board/":
            return self.board(request.url.params.get("pipeline_id", "p-1"))
        if path == "opportunities/":
            return httpx.Response(200, json={"count": len(DEALS), "next": None, "results": DEALS})
        if path.startswith("opportunities/"):
            return httpx.Response(200, json=next(deal for deal in DEALS if deal["id"] == path.split("/")[1]))
        self.moves.append(json.loads(request.content))
        SEATS[path.split("/")[2]] = self.moves[-1]["stage_id"]
        return httpx.Response(200, json=self.move_answer or {"error": False, "message": "Moved"})

    def board(self, pipeline_id: str) -> httpx.Response:
        self.boards[pipeline_id] = self.boards.get(pipeline_id, 0) + 1
        head = SALES if pipeline_id == "p-1" else PARTNERS
        columns = [
            {**column, "deals": [{"id": deal} for deal, seat in SEATS.items() if seat == column["id"]]}
            for column in STAGES[pipeline_id]
        ]
        return httpx.Response(200, json={"pipeline": head, "stages": columns})


@pytest.fixture
def lax(crm_api: respx.MockRouter) -> Callable[..., Crm]:
    def install(pipelines: list[dict[str, Any]] | None = None) -> Crm:
        SEATS.update({"d-1": "s-2", "d-2": "s-11", "d-3": "s-1"})
        crm = Crm(pipelines)
        crm_api.route(url__startswith=CRM).mock(side_effect=crm)
        return crm

    return install


async def test_rows_and_a_deal_take_their_stage_and_status_from_the_boards_never_from_the_legacy_enum(
    direct: CrmClient, lax: Callable[..., Crm]
) -> None:
    crm = lax()

    found = await direct.search("opportunities")
    deal = await direct.records("opportunities").get("d-3")

    seats = {row.id: (row.pipeline, row.pipeline_stage, row.is_closed) for row in found.items}
    assert seats == {"d-1": ("p-1", "s-2", True), "d-2": ("p-2", "s-11", False), "d-3": ("p-1", "s-1", False)}
    assert (deal.pipeline_stage, deal.is_closed, deal.stage) == ("s-1", False, "CLOSED_WON")
    assert crm.boards == {"p-1": 1, "p-2": 1}  # read once, for the search and the deal after it


@pytest.mark.parametrize(("status", "expected"), [("won", ["d-1"]), ("open", ["d-2", "d-3"]), ("lost", [])])
async def test_status_filters_read_the_board_stage(
    direct: CrmClient, lax: Callable[..., Crm], status: str, expected: list[str]
) -> None:
    lax()

    found = await direct.search("opportunities", filters={"status": status})

    assert [row.id for row in found.items] == expected
    assert (found.total, found.ignored) == (len(expected), ["status"])


async def test_a_stage_filter_by_a_name_two_pipelines_share_matches_either(
    direct: CrmClient, lax: Callable[..., Crm]
) -> None:
    lax()

    anywhere = await direct.search("opportunities", filters={"stage": "Prospecting"})
    partners = await direct.search("opportunities", filters={"stage": "Prospecting", "pipeline": "Partners"})

    assert ([row.id for row in anywhere.items], [row.id for row in partners.items]) == (["d-2", "d-3"], ["d-2"])


async def test_a_move_by_name_lands_in_the_pipeline_whose_board_holds_the_deal(
    direct: CrmClient, lax: Callable[..., Crm]
) -> None:
    crm = lax()

    move = await direct.pipelines.move_deal_to_stage("d-2", "won")
    after = await direct.records("opportunities").get("d-2")

    assert crm.moves == [{"stage_id": "s-12"}]
    assert (move.pipeline.name, move.from_stage and move.from_stage.id, move.to_stage.id) == (
        "Partners",
        "s-11",
        "s-12",
    )
    assert (move.deal.pipeline_stage, move.deal.is_closed, move.before.pipeline_stage) == ("s-12", True, "s-11")
    assert (after.pipeline_stage, after.is_closed) == ("s-12", True)
    assert crm.boards == {"p-1": 1, "p-2": 1}  # the move updated the kept seats: nothing read again


async def test_a_move_answered_with_another_deals_card_reads_the_deal_itself(
    direct: CrmClient, lax: Callable[..., Crm], crm_api: respx.MockRouter
) -> None:
    crm = lax()
    crm.move_answer = {"error": False, "message": "Moved", "card": {"id": "d-9", "name": "Someone else"}}

    moved = await direct.pipelines.move_deal("d-3", "s-2")

    assert (moved.id, moved.name, moved.pipeline_stage) == ("d-3", "Sales deal", "s-2")
    paths = [call.request.url.path for call in crm_api.calls]
    assert paths[paths.index("/api/deal-pipelines/deals/d-3/move/") + 1] == "/api/opportunities/d-3/"


async def test_a_move_by_a_shared_stage_name_asks_for_the_pipeline_when_no_board_holds_the_deal(
    direct: CrmClient, lax: Callable[..., Crm]
) -> None:
    crm = lax()
    SEATS.pop("d-3")

    with pytest.raises(CrmInvalid, match=r"Stage 'Won' is in 2 pipelines \('Sales', 'Partners'\)"):
        await direct.pipelines.move_deal_to_stage("d-3", "Won")
    moved = await direct.pipelines.move_deal_to_stage("d-3", "Won", pipeline="Partners")

    assert crm.moves == [{"stage_id": "s-12"}]
    assert (moved.from_stage, moved.to_stage.id) == (None, "s-12")


async def test_a_pipeline_list_of_code_label_kind_stages_lists_and_moves(
    direct: CrmClient, lax: Callable[..., Crm]
) -> None:
    def old(ident: str, name: str, kind: str) -> dict[str, Any]:
        return {"code": ident, "label": name, "kind": kind.upper(), "order": 0}

    coded = [
        {
            "id": "p-1",
            "label": "Sales",
            "default": True,
            "stages": [old("s-1", "Prospecting", "open"), old("s-2", "Won", "won")],
        },
        {
            "id": "p-2",
            "label": "Partners",
            "stages": [old("s-11", "Prospecting", "open"), old("s-12", "Won", "closed_won")],
        },
    ]
    crm = lax(coded)

    pipelines = await direct.pipelines.list()
    move = await direct.pipelines.move_deal_to_stage("d-2", "Won")

    assert [(p.name, p.is_default, [(s.id, s.name, s.stage_type) for s in p.stages]) for p in pipelines] == [
        ("Sales", True, [("s-1", "Prospecting", "open"), ("s-2", "Won", "won")]),
        ("Partners", False, [("s-11", "Prospecting", "open"), ("s-12", "Won", "won")]),
    ]
    assert (crm.moves, move.to_stage.is_terminal, move.pipeline.name) == ([{"stage_id": "s-12"}], True, "Partners")
