"""Stages by name everywhere: a deal created into a stage, stages renamed and deleted by name and pipeline, and
moves that never take a stage of another pipeline silently."""

from __future__ import annotations

from typing import Any

import pytest
from call_results import confirmed, failed, ok, text
from demo_org import IdOf, parse_call, resolve
from mcp import Client

pytestmark = pytest.mark.anyio

SALES_STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation", "Won", "Lost"]
PARTNER_STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation", "Contacted", "Won", "Lost"]
PLATFORM = IdOf("deals", "Platform expansion")  # Sales Pipeline, Prospecting
CO_MARKETING = IdOf("deals", "Co-marketing programme")  # Partnerships, Contacted


async def deal_count(client: Client) -> int:
    return int(ok(await client.call_tool("search_deals", {"limit": 1}))["total"])


async def pipelines(client: Client) -> dict[str, dict[str, str]]:
    """Pipeline name -> stage name -> stage id."""
    listed = ok(await client.call_tool("list_pipelines", {}))["pipelines"]
    return {p["name"]: {stage["name"]: stage["id"] for stage in p["stages"]} for p in listed}


async def column_ids(client: Client, pipeline: str, stage: str) -> list[str]:
    board = ok(await client.call_tool("get_pipeline_board", {"pipeline": pipeline}))
    return [deal["id"] for deal in next(s for s in board["stages"] if s["name"] == stage)["deals"]]


async def placed(client: Client, deal_id: str) -> tuple[str, str, str]:
    """Where get_deal says a deal is: (pipeline, stage, status)."""
    deal = ok(await client.call_tool("get_deal", {"deal_id": deal_id}))["record"]
    return deal["pipeline"]["name"], deal["stage"]["name"], deal["status"]


async def test_a_deal_created_into_a_stage_by_name_sits_in_that_column(client: Client) -> None:
    result = await client.call_tool("create_deal", {"name": "Zq licences", "stage": "Qualification"})

    deal_id = ok(result)["record"]["id"]
    assert await placed(client, deal_id) == ("Sales Pipeline", "Qualification", "open")
    assert deal_id in await column_ids(client, "Sales Pipeline", "Qualification")
    assert "; stage=Qualification (" in text(result)


@pytest.mark.parametrize(
    ("arguments", "pipeline", "stage"),
    [
        ({"stage": "Contacted", "pipeline": "Partnerships"}, "Partnerships", "Contacted"),
        ({"pipeline": "partnerships"}, "Partnerships", "Prospecting"),  # a pipeline's first open stage
        ({}, "Sales Pipeline", "Prospecting"),
    ],
)
async def test_a_deal_created_with_a_pipeline_lands_in_that_pipeline(
    client: Client, arguments: dict[str, Any], pipeline: str, stage: str
) -> None:
    deal_id = ok(await client.call_tool("create_deal", {"name": "Zq alliance", **arguments}))["record"]["id"]

    assert await placed(client, deal_id) == (pipeline, stage, "open")
    assert deal_id in await column_ids(client, pipeline, stage)


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        (
            "Qualifikation",
            "No stage 'Qualifikation' in pipeline 'Sales Pipeline'. Did you mean 'Qualification'? Valid stages: "
            "'Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost'. To use a new stage, add it to "
            "the pipeline first. Call get_pipeline_board to see stages, or add_stage to create one.",
        ),
        (
            "Contacted",
            "Stage 'Contacted' is in pipeline 'Partnerships', not in the default pipeline 'Sales Pipeline' (stages: "
            "'Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost'). To use 'Partnerships', call "
            "again with pipeline='Partnerships'. Call get_pipeline_board to see stages, or add_stage to create one.",
        ),
    ],
)
async def test_a_deal_is_not_created_into_a_stage_that_is_not_there(client: Client, stage: str, message: str) -> None:
    before = await deal_count(client)

    said = failed(await client.call_tool("create_deal", {"name": "Zq stray", "stage": stage}))

    assert said == f"Error executing tool create_deal: {message}"
    assert await deal_count(client) == before
    assert ok(await client.call_tool("search_deals", {"query": "Zq stray"}))["items"] == []


@pytest.mark.parametrize(("pipeline", "untouched"), [(None, "Partnerships"), ("Partnerships", "Sales Pipeline")])
async def test_rename_stage_by_name_renames_it_only_in_its_pipeline(
    client: Client, pipeline: str | None, untouched: str
) -> None:
    before = await pipelines(client)
    renamed = pipeline or "Sales Pipeline"
    arguments = {"stage": "proposal", "name": "Offer", **({"pipeline": pipeline} if pipeline else {})}

    result = await client.call_tool("rename_stage", arguments)

    stage_id = before[renamed]["Proposal"]
    assert ok(result)["stage"]["id"] == stage_id
    assert text(result) == f"Stage {stage_id}: Offer (open)."
    after = await pipelines(client)
    assert after[renamed] == {("Offer" if name == "Proposal" else name): id_ for name, id_ in before[renamed].items()}
    assert after[untouched] == before[untouched]


async def test_a_stage_holding_deals_is_not_deleted_and_the_error_lists_them_with_the_call_that_moves_them_out(
    client: Client,
) -> None:
    co_marketing = (await resolve(client, {"id": CO_MARKETING}))["id"]
    created = {"name": "Zq alliance", "stage": "Contacted", "pipeline": "Partnerships"}
    alliance = ok(await client.call_tool("create_deal", created))["record"]["id"]
    contacted = (await pipelines(client))["Partnerships"]["Contacted"]

    preview = ok(await client.call_tool("delete_stage", {"stage": "Contacted", "pipeline": "Partnerships"}))
    message = preview["reason"]

    assert (preview["outcome"], preview["confirm"], preview["id"]) == ("blocked", None, contacted)
    assert message == (
        f"It still holds 2 deal(s): {co_marketing} Lamarr Wireless – Co-marketing programme; {alliance} Zq alliance. "
        f"Move each out first, e.g. move_deal_to_stage(deal_id='{co_marketing}', stage='Prospecting')."
    )
    assert [*(await pipelines(client))["Partnerships"]] == PARTNER_STAGES

    tool, arguments = parse_call(message.rsplit("e.g. ", 1)[1].removesuffix("."))
    for deal_id in (co_marketing, alliance):
        ok(await client.call_tool(tool, {**arguments, "deal_id": deal_id}))
        assert await placed(client, deal_id) == ("Partnerships", "Prospecting", "open")
    deleted = await confirmed(client, "delete_stage", {"stage": "Contacted", "pipeline": "Partnerships"})

    assert (ok(deleted)["outcome"], ok(deleted)["id"]) == ("deleted", contacted)
    assert text(deleted) == f"Deleted stage Contacted in Partnerships ({contacted})."
    assert [*(await pipelines(client))["Partnerships"]] == [s for s in PARTNER_STAGES if s != "Contacted"]


async def test_a_stage_id_of_another_pipeline_moves_a_deal_only_when_pipeline_names_it(client: Client) -> None:
    deal_id = (await resolve(client, {"id": PLATFORM}))["id"]
    contacted = (await pipelines(client))["Partnerships"]["Contacted"]

    refused = failed(await client.call_tool("move_deal_to_stage", {"deal_id": deal_id, "stage": contacted}))

    assert refused == (
        f"Error executing tool move_deal_to_stage: Stage '{contacted}' is in pipeline 'Partnerships', not in this "
        "deal's pipeline 'Sales Pipeline' (stages: 'Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Won', "
        "'Lost'). To use 'Partnerships', call again with pipeline='Partnerships'. Call get_pipeline_board to see "
        "stages, or add_stage to create one."
    )
    assert await placed(client, deal_id) == ("Sales Pipeline", "Prospecting", "open")

    moved = await client.call_tool(
        "move_deal_to_stage", {"deal_id": deal_id, "stage": contacted, "pipeline": "Partnerships"}
    )

    got = ok(moved)
    assert (got["pipeline"]["name"], got["from_stage"], got["to_stage"], got["to_stage_id"]) == (
        "Partnerships",
        "Prospecting",
        "Contacted",
        contacted,
    )
    assert await placed(client, deal_id) == ("Partnerships", "Contacted", "open")
    assert text(moved) == (
        f"Moved deal {deal_id} (Analytical Engines Ltd – Platform expansion) from Prospecting to Contacted in "
        "pipeline Partnerships. The deal is open; expected close not set."
    )


async def test_placing_a_deal_both_above_and_below_others_is_refused_and_nothing_moves(client: Client) -> None:
    known = await resolve(
        client, {"deal": PLATFORM, "above": IdOf("deals", "Team licences"), "below": IdOf("deals", "Risk dashboards")}
    )
    column = await column_ids(client, "Sales Pipeline", "Qualification")
    assert column == [known["above"], known["below"]]

    both = {"above_deal_id": known["above"], "below_deal_id": known["below"]}

    message = failed(
        await client.call_tool("move_deal_to_stage", {"deal_id": known["deal"], "stage": "Qualification", **both})
    )

    assert message == (
        "Error executing tool move_deal_to_stage: Pass above_deal_id or below_deal_id, not both: the deal goes just "
        "above one deal or just below one."
    )
    assert await placed(client, known["deal"]) == ("Sales Pipeline", "Prospecting", "open")
    assert await column_ids(client, "Sales Pipeline", "Qualification") == column
