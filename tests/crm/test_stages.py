"""Stages are found by id or by name as a person types it, and moving a deal reports where it went."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from lava_crm_mcp.crm import CrmClient, CrmInvalid, CrmNotFound, Stage, UnknownStage
from lava_crm_mcp.crm.stages import find_stage

STAGES = [
    {"id": "s-1", "name": "Prospecting", "stage_type": "open", "order": 1, "deal_count": 1},
    {"id": "s-2", "name": "Contacted", "stage_type": "open", "order": 2, "deal_count": 0},
    {"id": "s-3", "name": "Meeting  Booked", "stage_type": "open", "order": 3, "deal_count": 0},
    {"id": "s-5", "name": "Won", "stage_type": "won", "order": 5, "deal_count": 0},
    {"id": "s-6", "name": "Lost", "stage_type": "lost", "order": 6, "deal_count": 0},
]
SALES = {"id": "p-1", "name": "Sales Pipeline", "is_default": True}
RENEWALS = {
    "id": "p-2",
    "name": "Renewals",
    "is_default": False,
    "stages": [{"id": "s-9", "name": "Up for renewal", "stage_type": "open", "order": 1, "deal_count": 0}],
}
BOARD = {"pipeline": SALES, "stages": [{**stage, "deals": []} for stage in STAGES]}
DEAL = {"id": "d-1", "name": "Big deal", "pipeline": "p-1", "pipeline_stage": "s-1", "is_closed": False}
FIRST = {"limit": 20}  # the first slice of a list: page 1 is implied, limit says how many
PIPELINES = {"count": 2, "next": None, "previous": None, "results": [{**SALES, "stages": STAGES}, RENEWALS]}


def stages() -> list[Stage]:
    return [Stage.model_validate(stage) for stage in STAGES]


@pytest.mark.parametrize("typed", [" contacted ", "Contacted", "CONTACTED", "\tcontacted\n"])
def test_stage_name_matches_ignoring_case_and_surrounding_whitespace(typed: str) -> None:
    assert find_stage(stages(), typed, pipeline_name="Sales Pipeline").id == "s-2"


def test_stage_name_matches_ignoring_inner_whitespace_runs() -> None:
    assert find_stage(stages(), "meeting booked", pipeline_name="Sales Pipeline").id == "s-3"


def test_stage_id_is_found_before_names() -> None:
    assert find_stage(stages(), " s-5 ", pipeline_name="Sales Pipeline").name == "Won"


def test_unknown_stage_lists_valid_names_and_the_closest_suggestion() -> None:
    with pytest.raises(UnknownStage) as caught:
        find_stage(stages(), "Contacte", pipeline_name="Sales Pipeline")

    error = caught.value
    assert error.valid == ["Prospecting", "Contacted", "Meeting  Booked", "Won", "Lost"]
    assert error.suggestion == "Contacted"
    assert "Did you mean 'Contacted'?" in str(error)
    assert "'Sales Pipeline'" in str(error)
    assert all(repr(name) in str(error) for name in error.valid)
    assert isinstance(error, CrmNotFound)


def test_unknown_stage_with_nothing_close_has_no_suggestion() -> None:
    with pytest.raises(UnknownStage) as caught:
        find_stage(stages(), "Zebra", pipeline_name="Sales Pipeline")

    assert caught.value.suggestion is None
    assert "Did you mean" not in str(caught.value)
    assert "add it to the pipeline first" in str(caught.value)


def moved(stage_id: str, pipeline: str = "p-1", **extra: Any) -> dict[str, Any]:
    return {**DEAL, "pipeline": pipeline, "pipeline_stage": stage_id, **extra}


@pytest.mark.anyio
async def test_move_deal_to_stage_by_name_reports_from_and_to_stages_and_pipeline(
    client: CrmClient, on: Callable[..., respx.Route], crm_api: respx.MockRouter
) -> None:
    on("GET", "opportunities/d-1/").respond(json=DEAL)
    on("GET", "deal-pipelines/", FIRST).respond(json=PIPELINES)
    move = on("PATCH", "deal-pipelines/deals/d-1/move/")
    move.respond(json=moved("s-2"))

    result = await client.pipelines.move_deal_to_stage("d-1", " contacted ")

    assert result.from_stage is not None
    assert (result.from_stage.id, result.from_stage.name) == ("s-1", "Prospecting")
    assert (result.to_stage.id, result.to_stage.name) == ("s-2", "Contacted")
    assert (result.pipeline.id, result.pipeline.name) == ("p-1", "Sales Pipeline")
    assert (result.deal.id, result.deal.pipeline_stage) == ("d-1", "s-2")
    assert json.loads(move.calls.last.request.content) == {"stage_id": "s-2"}
    assert [call.request.method for call in crm_api.calls] == ["GET", "GET", "PATCH"]


@pytest.mark.anyio
async def test_move_into_won_reports_the_closed_deal(client: CrmClient, on: Callable[..., respx.Route]) -> None:
    on("GET", "opportunities/d-1/").respond(json=DEAL)
    on("GET", "deal-pipelines/", FIRST).respond(json=PIPELINES)
    move = on("PATCH", "deal-pipelines/deals/d-1/move/")
    move.respond(json=moved("s-5", is_closed=True, stage="CLOSED_WON", closed_on="2024-05-01"))

    result = await client.pipelines.move_deal_to_stage("d-1", "won", below_id="d-7")

    assert result.to_stage.is_terminal
    assert (result.deal.is_closed, result.deal.stage) == (True, "CLOSED_WON")
    assert json.loads(move.calls.last.request.content) == {"stage_id": "s-5", "below_id": "d-7"}


@pytest.mark.anyio
async def test_unknown_stage_name_moves_nothing(
    client: CrmClient, on: Callable[..., respx.Route], crm_api: respx.MockRouter
) -> None:
    on("GET", "opportunities/d-1/").respond(json=DEAL)
    on("GET", "deal-pipelines/", FIRST).respond(json=PIPELINES)
    move = on("PATCH", "deal-pipelines/deals/d-1/move/")

    with pytest.raises(UnknownStage) as caught:
        await client.pipelines.move_deal_to_stage("d-1", "Meting")

    assert caught.value.suggestion == "Meeting  Booked"
    assert "Valid stages:" in str(caught.value)
    assert move.call_count == 0
    assert all(call.request.method == "GET" for call in crm_api.calls)


@pytest.mark.anyio
async def test_a_stage_of_another_pipeline_is_refused_naming_that_pipeline_and_how_to_ask_for_it(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("GET", "opportunities/d-1/").respond(json=DEAL)
    listed = on("GET", "deal-pipelines/", FIRST)
    listed.respond(json=PIPELINES)
    move = on("PATCH", "deal-pipelines/deals/d-1/move/")

    with pytest.raises(UnknownStage) as caught:
        await client.pipelines.move_deal_to_stage("d-1", "s-9")

    assert str(caught.value) == (
        "Stage 's-9' is in pipeline 'Renewals', not in this deal's pipeline 'Sales Pipeline' (stages: 'Prospecting', "
        "'Contacted', 'Meeting  Booked', 'Won', 'Lost'). To use 'Renewals', call again with pipeline='Renewals'."
    )
    assert move.call_count == 0


@pytest.mark.anyio
async def test_a_deal_moves_to_another_pipeline_when_the_call_names_it(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("GET", "opportunities/d-1/").respond(json=DEAL)
    listed = on("GET", "deal-pipelines/", FIRST)
    listed.respond(json=PIPELINES)
    move = on("PATCH", "deal-pipelines/deals/d-1/move/")
    move.respond(json=moved("s-9", pipeline="p-2"))

    result = await client.pipelines.move_deal_to_stage("d-1", "up for renewal", pipeline="renewals")

    assert listed.call_count == 1
    assert json.loads(move.calls.last.request.content) == {"stage_id": "s-9"}
    assert result.from_stage is not None
    assert result.from_stage.id == "s-1"
    assert (result.to_stage.id, result.to_stage.name) == ("s-9", "Up for renewal")
    assert (result.pipeline.id, result.pipeline.name) == ("p-2", "Renewals")


@pytest.mark.anyio
async def test_above_and_below_together_are_refused_before_any_request(
    client: CrmClient, crm_api: respx.MockRouter
) -> None:
    with pytest.raises(CrmInvalid, match="not both"):
        await client.pipelines.move_deal_to_stage("d-1", "Won", above_id="d-2", below_id="d-3")

    assert crm_api.calls.call_count == 0


@pytest.mark.anyio
async def test_a_deal_on_no_board_moves_to_the_one_pipeline_holding_that_stage_name(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("GET", "opportunities/d-1/").respond(json={**DEAL, "pipeline": None, "pipeline_stage": None})
    on("GET", "deal-pipelines/", FIRST).respond(json={**PIPELINES, "results": [RENEWALS, {**SALES, "stages": STAGES}]})
    boards = [on("GET", "deal-pipelines/board/", {"pipeline_id": pid}).respond(json=BOARD) for pid in ("p-1", "p-2")]
    on("PATCH", "deal-pipelines/deals/d-1/move/").respond(json=moved("s-1"))

    result = await client.pipelines.move_deal_to_stage("d-1", "prospecting")

    assert result.from_stage is None
    assert (result.to_stage.id, result.pipeline.name) == ("s-1", "Sales Pipeline")
    assert [board.call_count for board in boards] == [1, 1]


@pytest.mark.anyio
async def test_a_deal_whose_record_has_no_placement_moves_within_the_pipeline_whose_board_shows_it(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    twin = {**RENEWALS, "stages": [*RENEWALS["stages"], {**STAGES[3], "id": "s-15"}]}
    on("GET", "opportunities/d-1/").respond(json={"id": "d-1", "name": "Big deal", "stage": "PROSPECTING"})
    on("GET", "deal-pipelines/", FIRST).respond(json={**PIPELINES, "results": [{**SALES, "stages": STAGES}, twin]})
    on("GET", "deal-pipelines/board/", {"pipeline_id": "p-1"}).respond(json=BOARD)
    renewals = {"pipeline": twin, "stages": [{**twin["stages"][0], "deals": [{"id": "d-1"}]}, twin["stages"][1]]}
    on("GET", "deal-pipelines/board/", {"pipeline_id": "p-2"}).respond(json=renewals)
    move = on("PATCH", "deal-pipelines/deals/d-1/move/").respond(json={"error": False, "message": "Moved"})

    result = await client.pipelines.move_deal_to_stage("d-1", "won")

    assert json.loads(move.calls.last.request.content) == {"stage_id": "s-15"}
    assert (result.from_stage and result.from_stage.name, result.pipeline.name) == ("Up for renewal", "Renewals")
    assert (result.deal.pipeline_stage, result.deal.is_closed, result.before.pipeline_stage) == ("s-15", True, "s-9")


@pytest.mark.anyio
async def test_a_move_by_a_name_two_pipelines_share_asks_which_when_no_board_shows_the_deal(
    client: CrmClient, on: Callable[..., respx.Route], crm_api: respx.MockRouter
) -> None:
    twin = {**RENEWALS, "stages": [*RENEWALS["stages"], {**STAGES[3], "id": "s-15"}]}
    on("GET", "opportunities/d-1/").respond(json={"id": "d-1", "name": "Big deal"})
    on("GET", "deal-pipelines/", FIRST).respond(json={**PIPELINES, "results": [{**SALES, "stages": STAGES}, twin]})
    on("GET", "deal-pipelines/board/", {"pipeline_id": "p-1"}).respond(json=BOARD)
    on("GET", "deal-pipelines/board/", {"pipeline_id": "p-2"}).respond(json={"pipeline": twin, "stages": []})

    with pytest.raises(CrmInvalid) as caught:
        await client.pipelines.move_deal_to_stage("d-1", "Won")

    assert "is in 2 pipelines ('Sales Pipeline', 'Renewals')" in str(caught.value)
    assert "Call again with pipeline='Sales Pipeline'" in str(caught.value)
    assert caught.value.fields == {"pipeline": ["Needed: one of 'Sales Pipeline', 'Renewals'."]}
    assert all(call.request.method == "GET" for call in crm_api.calls)


@pytest.mark.anyio
async def test_a_stage_added_since_the_pipelines_were_cached_is_found_by_a_fresh_read(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    on("GET", "opportunities/d-1/").respond(json=DEAL)
    listed = on("GET", "deal-pipelines/", FIRST)
    added = {"id": "s-7", "name": "Demo", "stage_type": "open", "order": 4, "deal_count": 0}
    fresh = {**PIPELINES, "results": [{**SALES, "stages": [*STAGES, added]}, RENEWALS]}
    listed.side_effect = [httpx.Response(200, json=PIPELINES), httpx.Response(200, json=fresh)]
    on("PATCH", "deal-pipelines/deals/d-1/move/").respond(json=moved("s-7"))

    await client.pipelines.catalog()
    result = await client.pipelines.move_deal_to_stage("d-1", "demo")

    assert listed.call_count == 2
    assert result.to_stage.id == "s-7"


@pytest.mark.anyio
async def test_the_pipeline_catalog_is_read_once_then_served_from_the_cache_until_a_stage_changes(
    client: CrmClient, on: Callable[..., respx.Route]
) -> None:
    listed = on("GET", "deal-pipelines/", FIRST)
    listed.respond(json=PIPELINES)
    on("POST", "deal-pipelines/p-1/stages/").respond(201, json={"id": "s-7", "name": "Demo", "stage_type": "open"})

    await client.pipelines.catalog()
    await client.pipelines.catalog()
    assert listed.call_count == 1
    await client.pipelines.add_stage("p-1", "Demo")
    await client.pipelines.catalog()
    assert listed.call_count == 2


@pytest.mark.anyio
async def test_move_answered_with_an_ack_reads_the_deal_back(
    client: CrmClient, on: Callable[..., respx.Route], crm_api: respx.MockRouter
) -> None:
    on("PATCH", "deal-pipelines/deals/d-1/move/").respond(json={"error": False, "message": "Deal moved"})
    on("GET", "opportunities/d-1/").respond(json={"opportunity_obj": moved("s-2")})

    deal = await client.pipelines.move_deal("d-1", "s-2")

    assert deal.pipeline_stage == "s-2"
    assert [call.request.method for call in crm_api.calls] == ["PATCH", "GET"]
