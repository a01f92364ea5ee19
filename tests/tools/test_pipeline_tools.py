"""Pipeline tools (boards, custom stages, moving deals): success and failure paths, and the stage flow end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from call_results import confirmed, failed, ok, text
from mcp import Client

from lava_crm_mcp.settings import Settings

pytestmark = pytest.mark.anyio

SALES_STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation", "Won", "Lost"]


async def board(client: Client, pipeline: str | None = None, **arguments: Any) -> dict[str, Any]:
    arguments |= {"pipeline": pipeline} if pipeline else {}
    return ok(await client.call_tool("get_pipeline_board", arguments))


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
        ("Prospecting", "open"),
        ("Qualification", "open"),
        ("Proposal", "open"),
        ("Negotiation", "open"),
        ("Won", "won"),
        ("Lost", "lost"),
    ]
    assert (await board(client, pipeline["id"]))["pipeline"]["name"] == "Renewals"


async def test_create_pipeline_with_a_taken_name_is_refused(client: Client) -> None:
    message = failed(await client.call_tool("create_pipeline", {"name": "Sales Pipeline"}))

    assert "A pipeline with this name already exists" in message


async def test_get_pipeline_board_defaults_to_the_default_pipeline(client: Client) -> None:
    result = await client.call_tool("get_pipeline_board", {})

    default = ok(result)
    assert default["pipeline"]["name"] == "Sales Pipeline"
    assert [stage["name"] for stage in default["stages"]] == SALES_STAGES
    assert sum(len(stage["deals"]) for stage in default["stages"]) == default["deal_count"] == 12
    assert [stage["deal_count"] for stage in default["stages"]] == [2, 2, 2, 1, 3, 2]
    assert column(default, "Proposal")["value"] == {"EUR": "136000.00"}
    assert default["open_value"] == {"CHF": "54000.00", "EUR": "136000.00", "GBP": "77500.00", "USD": "58000.00"}
    assert text(result).splitlines()[0] == (
        f"Sales Pipeline (pipeline {default['pipeline']['id']}, default): 12 deals; "
        "open value 54000.00 CHF, 136000.00 EUR, 77500.00 GBP, 58000.00 USD, "
        "weighted 16200.00 CHF, 78550.00 EUR, 33200.00 GBP, 15900.00 USD; "
        "idle: days since a deal's last update or activity"
    )


@pytest.mark.parametrize("by", ["id", "name"])
async def test_get_pipeline_board_of_another_pipeline_by_id_or_name(client: Client, by: str) -> None:
    pipelines = ok(await client.call_tool("list_pipelines", {}))["pipelines"]
    partnerships = next(p for p in pipelines if p["name"] == "Partnerships")

    other = await board(client, partnerships["id"] if by == "id" else " partnerships ")

    assert other["pipeline"] == {"id": partnerships["id"], "name": "Partnerships", "is_default": False}
    assert "Contacted" in [stage["name"] for stage in other["stages"]]


async def test_get_pipeline_board_of_an_unknown_pipeline_lists_the_pipelines(client: Client) -> None:
    message = failed(await client.call_tool("get_pipeline_board", {"pipeline": "Partnerschips"}))

    assert message == (
        "Error executing tool get_pipeline_board: No pipeline 'Partnerschips'. Did you mean 'Partnerships'? "
        "Pipelines: 'Sales Pipeline', 'Partnerships' (list_pipelines shows their ids)."
    )


async def test_a_board_bounds_each_stage_and_gives_the_call_that_pages_through_one(client: Client) -> None:
    for number in range(23):
        ok(await client.call_tool("create_deal", {"name": f"Bulk {number:02}", "amount": "100.00", "currency": "EUR"}))

    full = await board(client)
    prospecting = column(full, "Prospecting")
    assert (prospecting["deal_count"], len(prospecting["deals"])) == (25, 8)
    assert prospecting["value"] == {"EUR": "2300.00", "GBP": "48000.00", "USD": "22000.00"}
    assert prospecting["more"] == "get_pipeline_board(stage='Prospecting', offset=8)"
    assert "  more: get_pipeline_board(stage='Prospecting', offset=8)" in text(
        await client.call_tool("get_pipeline_board", {})
    )
    assert column(full, "Proposal")["more"] is None

    pages = [await board(client, stage="Prospecting", offset=offset) for offset in (8, 16, 24)]
    assert [[stage["name"] for stage in page["stages"]] for page in pages] == [["Prospecting"]] * 3
    assert [page["stages"][0]["more"] for page in pages] == [
        "get_pipeline_board(stage='Prospecting', offset=16)",
        "get_pipeline_board(stage='Prospecting', offset=24)",
        None,
    ]
    paged = [deal["id"] for deal in prospecting["deals"]] + [
        deal["id"] for page in pages for deal in page["stages"][0]["deals"]
    ]
    whole = (await board(client, stage=prospecting["id"], limit=50))["stages"][0]["deals"]
    assert paged == [deal["id"] for deal in whole]
    assert len(set(paged)) == 25
    assert pages[0]["deal_count"] == 35


async def test_a_board_of_another_pipeline_pages_a_stage_by_names_or_by_the_stage_id_alone(client: Client) -> None:
    partnerships = await board(client, "Partnerships")
    contacted = column(partnerships, "Contacted")
    for number in range(9):
        arguments = {"name": f"Partner {number}", "stage": "Contacted", "pipeline": "Partnerships"}
        ok(await client.call_tool("create_deal", arguments))

    by_name = column(await board(client, "Partnerships"), "Contacted")
    by_id = await board(client, stage=contacted["id"], offset=8)

    assert by_name["more"] == "get_pipeline_board(pipeline='Partnerships', stage='Contacted', offset=8)"
    assert by_id["pipeline"]["name"] == "Partnerships"
    assert by_name["deal_count"] == 10
    assert [deal["name"] for deal in by_id["stages"][0]["deals"]] == ["Partner 7", "Partner 8"]


async def test_a_board_offset_without_a_stage_says_to_name_the_stage(client: Client) -> None:
    message = failed(await client.call_tool("get_pipeline_board", {"offset": 10}))

    assert message.endswith("offset pages through one stage: pass stage (its id or name) as well.")


async def test_add_stage_adds_an_open_stage_before_won_and_lost(client: Client) -> None:
    result = await client.call_tool("add_stage", {"name": "Contacted"})

    stage = ok(result)["stage"]
    assert (stage["name"], stage["stage_type"]) == ("Contacted", "open")
    assert text(result) == (
        f"Stage {stage['id']}: Contacted added to Sales Pipeline as open stage 5, after Negotiation, before Won/Lost. "
        "The CRM offers no reordering of stages."
    )
    assert [column["name"] for column in (await board(client))["stages"]][-3:] == ["Contacted", "Won", "Lost"]


async def test_add_stage_with_a_duplicate_name_is_refused(client: Client) -> None:
    message = failed(await client.call_tool("add_stage", {"name": "negotiation"}))

    assert "A stage with this name already exists" in message


async def test_rename_stage_renames_it_in_place(client: Client) -> None:
    proposal = column(await board(client), "Proposal")

    result = await client.call_tool("rename_stage", {"stage": proposal["id"], "name": "Offer"})

    assert ok(result)["stage"]["name"] == "Offer"
    renamed = column(await board(client), "Offer")
    assert (renamed["id"], len(renamed["deals"])) == (proposal["id"], len(proposal["deals"]))


async def test_rename_stage_of_an_unknown_stage_lists_the_stages(client: Client) -> None:
    message = failed(await client.call_tool("rename_stage", {"stage": "no-such-stage", "name": "Offer"}))

    assert "No stage 'no-such-stage' in pipeline 'Sales Pipeline'." in message
    assert "Valid stages: 'Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost'." in message


async def test_delete_stage_removes_an_empty_open_stage(client: Client) -> None:
    added = ok(await client.call_tool("add_stage", {"name": "Contacted"}))["stage"]

    result = await confirmed(client, "delete_stage", {"stage": added["id"]})

    assert {key: ok(result)[key] for key in ("kind", "id", "outcome")} == {
        "kind": "stage",
        "id": added["id"],
        "outcome": "deleted",
    }
    assert "Contacted" not in [stage["name"] for stage in (await board(client))["stages"]]


@pytest.mark.parametrize(
    ("stage", "says"),
    [
        ("Won", "Won and Lost stages are required and cannot be deleted"),
        ("Lost", "cannot be deleted"),
        ("Prospecting", "It still holds 2 deal(s):"),
    ],
)
async def test_delete_stage_refuses_won_lost_and_stages_holding_deals(client: Client, stage: str, says: str) -> None:
    before = await board(client)

    preview = ok(await client.call_tool("delete_stage", {"stage": column(before, stage)["id"]}))

    assert (preview["outcome"], preview["confirm"]) == ("blocked", None)
    assert says in preview["reason"]
    assert await board(client) == before


async def test_move_deal_to_stage_by_id_reports_from_and_to(client: Client) -> None:
    sales = await board(client)
    deal = column(sales, "Prospecting")["deals"][0]
    proposal = column(sales, "Proposal")

    result = await client.call_tool("move_deal_to_stage", {"deal_id": deal["id"], "stage": proposal["id"]})

    assert ok(result) == {
        "deal_id": deal["id"],
        "deal_name": deal["name"],
        "pipeline": sales["pipeline"],
        "from_stage": "Prospecting",
        "to_stage": "Proposal",
        "to_stage_id": proposal["id"],
        "is_closed": False,
        "outcome": None,
        "closed_on": None,
        "expected_close": None,
        "reason": None,
        "notes": [],
    }
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
        "deal_id": deal_id,
        "deal_name": deal["name"],
        "pipeline": sales["pipeline"],
        "from_stage": "Prospecting",
        "to_stage": "Contacted",
        "to_stage_id": added["id"],
        "is_closed": False,
        "outcome": None,
        "closed_on": None,
        "expected_close": None,
        "reason": None,
        "notes": [],
    }
    assert (
        "from Prospecting to Contacted in pipeline Sales Pipeline. The deal is open; expected close not set."
        in text(moved)
    )
    resource = await board_resource(client)
    assert deal_id in deal_ids(resource, "Contacted")
    assert deal_id not in deal_ids(resource, "Prospecting")

    won = await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": "Won"})

    assert {key: ok(won)[key] for key in ("from_stage", "to_stage", "is_closed", "outcome")} == {
        "from_stage": "Contacted",
        "to_stage": "Won",
        "is_closed": True,
        "outcome": "won",
    }
    today = ok(won)["closed_on"]
    assert text(won).endswith(
        f"from Contacted to Won in pipeline Sales Pipeline. The deal is now closed (won) on {today}."
    )
    record = ok(await client.call_tool("get_deal", {"deal_id": deal_id}))["record"]
    assert (record["stage"]["name"], record["status"]) == ("Won", "won")
    assert deal_id in deal_ids(await board_resource(client), "Won")


async def test_update_deal_cannot_change_the_stage_and_leaves_the_board_alone(client: Client) -> None:
    before = await board(client)
    deal_id = deal_ids(before, "Prospecting")[0]

    for stage_key in ("stage", "pipeline_stage"):
        message = failed(await client.call_tool("update_deal", {"deal_id": deal_id, stage_key: "Won"}))
        assert f"Unknown argument(s) '{stage_key}' for update_deal." in message
        assert "move_deal_to_stage(deal_id, stage)" in message

    assert await board(client) == before
    assert ok(await client.call_tool("get_deal", {"deal_id": deal_id}))["record"]["status"] == "open"


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
        "Negotiation",
        "Lost",
        True,
        "lost",
    )
