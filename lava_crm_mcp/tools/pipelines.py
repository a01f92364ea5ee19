"""Pipeline tools: bounded boards, custom stages, and moving deals between stages (never via the legacy enum)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from lava_crm_mcp.crm import CrmClient, Pipeline, Stage
from lava_crm_mcp.tools._shared import (
    CUSTOMER_TEXT,
    READ,
    WRITE,
    IdArg,
    Lookup,
    ToolArgs,
    ToolSpec,
    board_check,
    next_call,
)
from lava_crm_mcp.tools.board import BoardArgs, BoardResult, read_board
from lava_crm_mcp.tools.moves import MoveResult, move_deal
from lava_crm_mcp.tools.pipeline_setup import (
    AddStageArgs,
    CreatePipelineArgs,
    PipelineMade,
    StageAdded,
    add_stage,
    create_pipeline,
)
from lava_crm_mcp.tools.render import Result, one_line
from lava_crm_mcp.tools.stage_deletes import DELETE_STAGE, StageArgs

__all__ = [
    "add_stage",
    "create_pipeline",
    "get_pipeline_board",
    "list_pipelines",
    "move_deal_to_stage",
    "rename_stage",
]

Name = Lookup
StageArg = Annotated[Lookup, Field(description="Stage id, or stage name in the deal's pipeline (e.g. 'Won').")]
Reason = Annotated[str | None, StringConstraints(max_length=255), Field(description="Why; kept in its timeline.")]


def _stage_line(stage: Stage) -> str:
    kind = "" if stage.stage_type == "open" else f" ({stage.stage_type})"
    count = f" {stage.deal_count} deals" if stage.deal_count is not None else ""
    return f"  {stage.id} | {one_line(stage.name)}{kind}{count}"


class PipelineList(Result):
    pipelines: list[Pipeline]

    def render(self) -> str:
        lines: list[str] = []
        for pipeline in self.pipelines:
            default = ", default" if pipeline.is_default else ""
            lines.append(f"{one_line(pipeline.name)} (pipeline {pipeline.id}{default})")
            lines += [_stage_line(stage) for stage in pipeline.stages]
        return "\n".join(lines) or "No pipelines."


class PipelineResult(Result):
    pipeline: Pipeline

    def render(self) -> str:
        return PipelineList(pipelines=[self.pipeline]).render()


class StageResult(Result):
    stage: Stage

    def render(self) -> str:
        return f"Stage {self.stage.id}: {one_line(self.stage.name)} ({self.stage.stage_type})."


class NoArgs(ToolArgs):
    pass


class RenameStageArgs(StageArgs):
    name: Name


class MoveArgs(ToolArgs):
    deal_id: IdArg
    stage: StageArg
    pipeline: Annotated[
        Lookup | None, Field(description="Only to move the deal into another pipeline: its id or name.")
    ] = None
    above_deal_id: IdArg | None = Field(None, description="Place just above this deal in the target stage.")
    below_deal_id: IdArg | None = Field(None, description="Or just below this one.")
    reason: Reason = None


async def list_pipelines(crm: CrmClient, _: NoArgs) -> PipelineList:
    return PipelineList(pipelines=await crm.pipelines.list())


async def get_pipeline_board(crm: CrmClient, a: BoardArgs) -> BoardResult:
    return await read_board(crm, a)


async def rename_stage(crm: CrmClient, a: RenameStageArgs) -> StageResult:
    _, stage = await crm.pipelines.locate(a.stage, a.pipeline)
    return StageResult(stage=await crm.pipelines.rename_stage(stage.id, a.name))


async def move_deal_to_stage(crm: CrmClient, a: MoveArgs) -> MoveResult:
    return await move_deal(
        crm,
        a.deal_id,
        a.stage,
        pipeline=a.pipeline,
        above_id=a.above_deal_id,
        below_id=a.below_deal_id,
        reason=a.reason,
    )


FIND_STAGES = "Stage ids are in list_pipelines and get_pipeline_board."
PIPELINE_TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        "list_pipelines",
        "List pipelines",
        "List deal pipelines with their stages (ids, order, deal counts).",
        NoArgs,
        PipelineList,
        list_pipelines,
        READ,
        "pipelines",
    ),
    ToolSpec(
        "create_pipeline",
        "Create pipeline",
        "Create a deal pipeline with its open stages in order (then Won and Lost).",
        CreatePipelineArgs,
        PipelineMade,
        create_pipeline,
        WRITE,
        "pipelines",
        check=lambda a: "See whether it exists with list_pipelines().",
    ),
    ToolSpec(
        "get_pipeline_board",
        "Get pipeline board",
        "A pipeline's board: per stage its deal count, value per currency and first deals in column order; "
        "page one stage with stage and offset. Start here for deal work. " + CUSTOMER_TEXT,
        BoardArgs,
        BoardResult,
        get_pipeline_board,
        READ,
        "pipelines",
        hints={"not_found": "See list_pipelines."},
    ),
    ToolSpec(
        "add_stage",
        "Add stage",
        "Add an open stage (e.g. 'Contacted') after the others, before Won/Lost.",
        AddStageArgs,
        StageAdded,
        add_stage,
        WRITE,
        "pipelines",
        hints={"not_found": "See list_pipelines."},
        check=board_check,
    ),
    ToolSpec(
        "rename_stage",
        "Rename stage",
        "Rename a stage (by id, or by name in a pipeline).",
        RenameStageArgs,
        StageResult,
        rename_stage,
        WRITE,
        "pipelines",
        hints={"not_found": FIND_STAGES},
        check=board_check,
    ),
    DELETE_STAGE,
    ToolSpec(
        "move_deal_to_stage",
        "Move deal to stage",
        "Move a deal to a stage of its pipeline, by stage id or name; name pipeline only to move it into "
        "another pipeline. Moving to Won/Lost closes the deal.",
        MoveArgs,
        MoveResult,
        move_deal_to_stage,
        WRITE,
        "deals",
        hints={"not_found": "Find deal ids with search_deals or get_pipeline_board."},
        check=lambda a: f"See where it is now with {next_call('get_deal', {'deal_id': a.deal_id})}.",
    ),
)
