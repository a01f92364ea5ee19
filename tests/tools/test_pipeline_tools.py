"""Pipeline tools (boards, custom stages, moving deals): success and failure paths, and the stage flow end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from call_results import failed, ok, text
from mcp import Client

from lava_crm_mcp.settings import Settings

pytestmark = pytest.mark.anyio

SALES_STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation", "Won", "Lost"]


async def board(client: Client, pipeline_id: str | None = None) -> dict[str, Any]:
    arguments = {"pipeline_id": pipeline_id} if pipeline_id else {}
    return ok(await client.call_tool("get_pipeline_board", arguments))["board"]


def column(board: dict[str, Any], name: str) -> dict[str, Any]:
    return next(stage for stage in board["stages"] if stage["name"] == name)


def deal_ids(board: dict[str, Any], name: str) -> list[str]:
    return [deal["id"] for deal in column(board, name)["deals"]]


async def board_resource(client: Client) -> dict[str, Any]:
    contents = (await client.read_resource("lava-crm://board")).contents
    return json.loads(getattr(contents[0], "text", ""))


async def test_list_pipelines_shows_every_pipeline_with_its_stages(client: Client) -> None:
    result = await client.call_tool("list_pipelines", {})

    pipelines = ok(result)["pipelines"]
    assert [(p["name"], p["is_default"]) for p in pipelines] == [("Sales Pipeline", True), ("Partnerships", False)]
    assert [stage["name"] for stage in pipelines[0]["stages"]] == SALES_STAGES
    assert text(result).startswith(f"Sales Pipeline (pipeline {pipelines[0]['id']}, default)\n  ")


async def test_list_pipelines_takes_no_arguments_and_says_so(client: Client) -> None:
    message = failed(await client.call_tool("list_pipelines", {"pipeline_id": "x"}))

    assert message == "Unknown argument(s) 'pipeline_id' for list_pipelines. Valid arguments: none."


async def test_create_pipeline_starts_with_four_open_stages_plus_won_and_lost(client: Client) -> None:
    result = await client.call_tool("create_pipeline", {"name": " Renewals "})

    pipeline = ok(result)["pipeline"]
    assert pipeline["name"] == "Renewals"
    assert [(stage["name"], stage["stage_type"]) for stage in pipeline["stages"]] == [
        ("Prospecting", "open"), ("Qualification", "open"), ("Proposal", "open"), ("Negotiation", "open"),
        ("Won", "won"), ("Lost", "lost"),
    ]  # fmt: skip
    assert (await board(client, pipeline["id"]))["pipeline"]["name"] == "Renewals"


async def test_create_pipeline_with_a_taken_name_is_refused(client: Client) -> None:
    message = failed(await client.call_tool("create_pipeline", {"name": "Sales Pipeline"}))

    assert "A pipeline with this name already exists" in message


async def test_get_pipeline_board_defaults_to_the_default_pipeline(client: Client) -> None:
    result = await client.call_tool("get_pipeline_board", {})

    default = ok(result)["board"]
    assert default["pipeline"]["name"] == "Sales Pipeline"
    assert [stage["name"] for stage in default["stages"]] == SALES_STAGES
    assert sum(len(stage["deals"]) for stage in default["stages"]) == 12
    assert text(result).splitlines()[0] == f"Sales Pipeline (pipeline {default['pipeline']['id']}, default)"


async def test_get_pipeline_board_of_another_pipeline_by_id(client: Client) -> None:
    pipelines = ok(await client.call_tool("list_pipelines", {}))["pipelines"]
    partnerships = next(p for p in pipelines if p["name"] == "Partnerships")

    other = await board(client, partnerships["id"])

    assert other["pipeline"] == {"id": partnerships["id"], "name": "Partnerships", "is_default": False}
    assert "Contacted" in [stage["name"] for stage in other["stages"]]


async def test_get_pipeline_board_of_an_unknown_pipeline_points_to_list_pipelines(client: Client) -> None:
    message = failed(await client.call_tool("get_pipeline_board", {"pipeline_id": "no-such-pipeline"}))

    assert "pipeline 'no-such-pipeline' was not found" in message
    assert message.endswith("See list_pipelines.")


async def test_add_stage_adds_an_open_stage_before_won_and_lost(client: Client) -> None:
    result = await client.call_tool("add_stage", {"name": "Contacted"})

    stage = ok(result)["stage"]
    assert (stage["name"], stage["stage_type"]) == ("Contacted", "open")
    assert text(result) == f"Stage {stage['id']}: Contacted (open)."
    assert [column["name"] for column in (await board(client))["stages"]][-3:] == ["Contacted", "Won", "Lost"]


async def test_add_stage_with_a_duplicate_name_is_refused(client: Client) -> None:
    message = failed(await client.call_tool("add_stage", {"name": "negotiation"}))

    assert "A stage with this name already exists" in message


async def test_rename_stage_renames_it_in_place(client: Client) -> None:
    proposal = column(await board(client), "Proposal")

    result = await client.call_tool("rename_stage", {"stage_id": proposal["id"], "name": "Offer"})

    assert ok(result)["stage"]["name"] == "Offer"
    renamed = column(await board(client), "Offer")
    assert (renamed["id"], len(renamed["deals"])) == (proposal["id"], len(proposal["deals"]))


async def test_rename_stage_of_an_unknown_id_says_where_stage_ids_are(client: Client) -> None:
    message = failed(await client.call_tool("rename_stage", {"stage_id": "no-such-stage", "name": "Offer"}))

    assert "stage 'no-such-stage' was not found" in message
    assert message.endswith("Stage ids are in list_pipelines and get_pipeline_board.")


async def test_delete_stage_removes_an_empty_open_stage(client: Client) -> None:
    added = ok(await client.call_tool("add_stage", {"name": "Contacted"}))["stage"]

    result = await client.call_tool("delete_stage", {"stage_id": added["id"]})

    assert ok(result) == {"stage_id": added["id"], "deleted": True}
    assert "Contacted" not in [stage["name"] for stage in (await board(client))["stages"]]


@pytest.mark.parametrize(
    ("stage", "says"),
    [("Won", "Won and Lost stages are required and cannot be deleted"), ("Lost", "cannot be deleted"),
     ("Prospecting", "still holds 2 deal(s); move them first")],
)  # fmt: skip
async def test_delete_stage_refuses_won_lost_and_stages_holding_deals(client: Client, stage: str, says: str) -> None:
    before = await board(client)

    message = failed(await client.call_tool("delete_stage", {"stage_id": column(before, stage)["id"]}))

    assert says in message
    assert await board(client) == before


async def test_move_deal_to_stage_by_id_reports_from_and_to(client: Client) -> None:
    sales = await board(client)
    deal = column(sales, "Prospecting")["deals"][0]
    proposal = column(sales, "Proposal")

    result = await client.call_tool("move_deal_to_stage", {"deal_id": deal["id"], "stage": proposal["id"]})

    assert ok(result) == {
        "deal_id": deal["id"], "deal_name": deal["name"], "pipeline": sales["pipeline"],
        "from_stage": "Prospecting", "to_stage": "Proposal", "to_stage_id": proposal["id"],
        "is_closed": False, "outcome": None,
    }  # fmt: skip
    assert deal["id"] in deal_ids(await board(client), "Proposal")


async def test_move_to_a_stage_that_does_not_exist_lists_the_valid_stages_and_the_closest(client: Client) -> None:
    before = await board(client)
    deal_id = deal_ids(before, "Prospecting")[0]

    message = failed(await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": "Negotation"}))

    assert "No stage 'Negotation' in pipeline 'Sales Pipeline'. Did you mean 'Negotiation'?" in message
    assert "Valid stages: 'Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost'." in message
    assert "add_stage" in message
    assert await board(client) == before


async def test_move_of_an_unknown_deal_says_where_deal_ids_are(client: Client) -> None:
    message = failed(await client.call_tool("move_deal_to_stage", {"deal_id": "no-such-deal", "stage": "Won"}))

    assert "deal 'no-such-deal' was not found" in message
    assert message.endswith("Find deal ids with search_deals or get_pipeline_board.")


async def test_stage_flow_add_a_stage_move_by_name_and_close_by_winning(client: Client) -> None:
    added = ok(await client.call_tool("add_stage", {"name": "Contacted"}))["stage"]
    sales = await board(client)
    deal = column(sales, "Prospecting")["deals"][0]
    deal_id = deal["id"]

    moved = await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": " contacted "})

    assert ok(moved) == {
        "deal_id": deal_id, "deal_name": deal["name"], "pipeline": sales["pipeline"],
        "from_stage": "Prospecting", "to_stage": "Contacted", "to_stage_id": added["id"],
        "is_closed": False, "outcome": None,
    }  # fmt: skip
    assert "from Prospecting to Contacted in pipeline Sales Pipeline. The deal is open." in text(moved)
    resource = await board_resource(client)
    assert deal_id in deal_ids(resource, "Contacted")
    assert deal_id not in deal_ids(resource, "Prospecting")

    won = await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": "Won"})

    assert {key: ok(won)[key] for key in ("from_stage", "to_stage", "is_closed", "outcome")} == {
        "from_stage": "Contacted", "to_stage": "Won", "is_closed": True, "outcome": "won",
    }  # fmt: skip
    assert text(won).endswith("from Contacted to Won in pipeline Sales Pipeline. The deal is now closed (won).")
    assert ok(await client.call_tool("get_deal", {"deal_id": deal_id}))["record"]["is_closed"] is True
    assert deal_id in deal_ids(await board_resource(client), "Won")


async def test_update_deal_cannot_change_the_stage_and_leaves_the_board_alone(client: Client) -> None:
    before = await board(client)
    deal_id = deal_ids(before, "Prospecting")[0]

    for stage_key in ("stage", "pipeline_stage"):
        message = failed(await client.call_tool("update_deal", {"deal_id": deal_id, stage_key: "Won"}))
        assert f"Unknown argument(s) '{stage_key}' for update_deal." in message
        assert "move_deal_to_stage(deal_id, stage)" in message

    assert await board(client) == before
    assert ok(await client.call_tool("get_deal", {"deal_id": deal_id}))["record"]["is_closed"] is False


@pytest.mark.parametrize("anchor", ["above_deal_id", "below_deal_id"])
async def test_move_places_the_deal_just_above_or_below_another(client: Client, anchor: str) -> None:
    before = await board(client)
    mover = deal_ids(before, "Prospecting")[0]
    target = deal_ids(before, "Qualification")
    assert len(target) == 2

    arguments = {"deal_id": mover, "stage": "Qualification", anchor: target[0]}
    ok(await client.call_tool("move_deal_to_stage", arguments))

    expected = [mover, *target] if anchor == "above_deal_id" else [target[0], mover, target[1]]
    assert deal_ids(await board(client), "Qualification") == expected


async def test_move_with_an_anchor_deal_outside_the_target_stage_is_refused(client: Client) -> None:
    before = await board(client)
    mover, other = deal_ids(before, "Prospecting")

    arguments = {"deal_id": mover, "stage": "Qualification", "above_deal_id": other}
    message = failed(await client.call_tool("move_deal_to_stage", arguments))

    assert "is not in the target stage" in message
    assert await board(client) == before


async def test_a_legacy_client_can_search_and_move(connect: Callable[..., Client]) -> None:
    async with connect(Settings(), mode="legacy") as client:
        found = ok(await client.call_tool("search_contacts", {"query": "ada"}))
        deal_id = deal_ids(await board(client), "Negotiation")[0]
        moved = ok(await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": "lost"}))

    assert [row["first_name"] for row in found["items"]] == ["Ada"]
    assert (moved["from_stage"], moved["to_stage"], moved["is_closed"], moved["outcome"]) == (
        "Negotiation", "Lost", True, "lost",
    )  # fmt: skip
