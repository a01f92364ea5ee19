"""delete_stage: a stage by id or name, previewed like every delete; a stage that still holds deals is refused,
naming them and the call that moves them out."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from lava_crm_mcp.crm import CrmClient, CrmInvalid, Pipeline, Stage
from lava_crm_mcp.crm.board import Column
from lava_crm_mcp.tools._shared import DESTRUCTIVE, ConfirmArg, Lookup, PipelineArg, ToolArgs, ToolSpec, board_check
from lava_crm_mcp.tools.deletes import DeleteResult, Dependents
from lava_crm_mcp.tools.render import Link, one_line

__all__ = ["DELETE_STAGE", "StageArgs", "delete_stage"]

StageRef = Annotated[Lookup, Field(description="Stage id, or name (in pipeline, default: the default pipeline).")]


class StageArgs(ToolArgs):
    stage: StageRef
    pipeline: PipelineArg = None


class DeleteStageArgs(StageArgs):
    confirm: ConfirmArg = None


async def _column(crm: CrmClient, pipeline: Pipeline, stage: Stage) -> Column | None:
    return next((c for c in (await crm.pipelines.columns(pipeline.id)).columns if c.stage.id == stage.id), None)


def _blocked(pipeline: Pipeline, stage: Stage, column: Column | None) -> str | None:
    """Why the stage cannot be deleted as it is, with what to do; None when it can."""
    if stage.stage_type != "open":
        return "Won and Lost stages are required and cannot be deleted."
    if column is None or not column.raw:
        return None
    cards = column.cards(0, 10)
    listed = "; ".join(f"{card.id} {one_line(card.name or '')}" for card in cards)
    more = (
        f" (and {column.count - len(cards)} more: get_pipeline_board shows them)" if column.count > len(cards) else ""
    )
    other = next((s.name for s in pipeline.stages if s.id != stage.id and s.stage_type == "open"), "another stage")
    call = f"move_deal_to_stage(deal_id='{cards[0].id}', stage={other!r})"
    return f"It still holds {column.count} deal(s): {listed}{more}. Move each out first, e.g. {call}."


async def preview(crm: CrmClient, a: DeleteStageArgs) -> DeleteResult:
    pipeline, stage = await crm.pipelines.locate(a.stage, a.pipeline)
    column = await _column(crm, pipeline, stage)
    cards = column.cards(0, 3) if column else []
    deals = Dependents(
        kind="deals", total=column.count if column else 0, items=[Link(id=card.id, name=card.name) for card in cards]
    )
    blocked = _blocked(pipeline, stage, column)
    outcome = "blocked" if blocked else "preview"
    name = f"{stage.name} in {pipeline.name}"
    return DeleteResult(kind="stage", id=stage.id, name=name, outcome=outcome, links=[deals], reason=blocked)


async def delete_stage(crm: CrmClient, a: DeleteStageArgs) -> DeleteResult:
    pipeline, stage = await crm.pipelines.locate(a.stage, a.pipeline)
    try:
        await crm.pipelines.delete_stage(stage.id)
    except CrmInvalid as exc:
        reason = _blocked(pipeline, stage, await _column(crm, pipeline, stage))
        raise CrmInvalid(f"{exc.message} {reason or ''}".strip(), fields=exc.fields, status=exc.status) from exc
    return DeleteResult(kind="stage", id=stage.id, name=f"{stage.name} in {pipeline.name}", outcome="deleted")


DELETE_STAGE: ToolSpec[Any] = ToolSpec(
    "delete_stage",
    "Delete stage",
    "Delete an empty open stage (by id, or by name in a pipeline); Won and Lost stay. The first call previews it "
    "and returns a confirm token; repeat with it to delete.",
    DeleteStageArgs,
    DeleteResult,
    delete_stage,
    DESTRUCTIVE,
    "pipelines",
    hints={"not_found": "Stage ids are in list_pipelines and get_pipeline_board."},
    preview=preview,
    check=board_check,
)
