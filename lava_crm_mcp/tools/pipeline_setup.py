"""Pipelines set up in one call: `create_pipeline(name, stages=[…])` leaves exactly those open stages, in that
order, before Won and Lost — through the CRM's own endpoints (create the pipeline, rename its starting stages, add
or delete the rest), as the CRM offers no reordering. `add_stage` says where the new stage landed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from lava_crm_mcp.crm import CrmClient, CrmError, Pipeline, Stage
from lava_crm_mcp.crm.stages import find_pipeline
from lava_crm_mcp.crm.text import fold
from lava_crm_mcp.tools._shared import Lookup, PipelineArg, ToolArgs, ToolFailure
from lava_crm_mcp.tools.render import Result, one_line

__all__ = ["AddStageArgs", "CreatePipelineArgs", "PipelineMade", "StageAdded", "add_stage", "create_pipeline"]

CLOSING = frozenset({"won", "lost"})


class CreatePipelineArgs(ToolArgs):
    name: Lookup
    stages: Annotated[
        list[Lookup] | None,
        Field(min_length=1, max_length=20, description="Its open stages in order (else the CRM's four)."),
    ] = None


class AddStageArgs(ToolArgs):
    name: Lookup
    pipeline: PipelineArg = None


def opens(pipeline: Pipeline) -> list[Stage]:
    """A pipeline's open stages in board order."""
    ordered = sorted(enumerate(pipeline.stages), key=lambda pair: (pair[1].order is None, pair[1].order, pair[0]))
    return [stage for _, stage in ordered if not stage.is_terminal]


def _stage_line(stage: Stage) -> str:
    kind = "" if stage.stage_type == "open" else f" ({stage.stage_type})"
    return f"  {stage.id} | {one_line(stage.name)}{kind}"


class PipelineMade(Result):
    pipeline: Pipeline

    def render(self) -> str:
        head = f"Created pipeline {one_line(self.pipeline.name)} ({self.pipeline.id}) with stages:"
        return "\n".join([head, *map(_stage_line, self.pipeline.stages)])


class StageAdded(Result):
    stage: Stage
    pipeline: str
    position: int
    """Its place among the pipeline's open stages, from 1."""
    after: str | None = None

    def render(self) -> str:
        where = f"after {one_line(self.after)}" if self.after else "first"
        return (
            f"Stage {self.stage.id}: {one_line(self.stage.name)} added to {one_line(self.pipeline)} as open stage "
            f"{self.position}, {where}, before Won/Lost. The CRM offers no reordering of stages."
        )


def _checked(stages: Sequence[str]) -> list[str]:
    folded = [fold(name) for name in stages]
    if any(name in CLOSING for name in folded):
        raise ToolFailure("stages lists the open stages only: every pipeline comes with Won and Lost.")
    repeated = sorted({name for name, key in zip(stages, folded, strict=True) if folded.count(key) > 1})
    if repeated:
        raise ToolFailure(f"stages repeats {', '.join(map(repr, repeated))}: give each stage once.")
    return list(stages)


async def _shape(crm: CrmClient, pipeline: Pipeline, wanted: list[str], done: list[str]) -> None:
    """Turn the new pipeline's starting open stages into `wanted`: the surplus deleted first (freeing their names),
    each kept one renamed in place (a later stage holding the name it needs is renamed aside first), the rest added
    at the end. `done` collects each step, for a failure to report."""
    start = opens(pipeline)
    for stage in start[len(wanted) :]:
        await crm.pipelines.delete_stage(stage.id)
        done.append(f"deleted {stage.name!r}")
    names = {stage.id: stage.name for stage in start}
    kept = start[: len(wanted)]
    for index, (stage, name) in enumerate(zip(kept, wanted, strict=False)):
        if names[stage.id] == name:
            continue
        for later in kept[index + 1 :]:
            if fold(names[later.id]) == fold(name):
                names[later.id] = f"{names[later.id]} ({later.id[:8]})"
                await crm.pipelines.rename_stage(later.id, names[later.id])
        await crm.pipelines.rename_stage(stage.id, name)
        names[stage.id] = name
        done.append(f"renamed {stage.name!r} to {name!r}")
    for name in wanted[len(kept) :]:
        await crm.pipelines.add_stage(pipeline.id, name)
        done.append(f"added {name!r}")


async def create_pipeline(crm: CrmClient, a: CreatePipelineArgs) -> PipelineMade:
    wanted = _checked(a.stages) if a.stages else None
    pipeline = await crm.pipelines.create(a.name)
    if wanted is None:
        return PipelineMade(pipeline=pipeline)
    done: list[str] = []
    try:
        await _shape(crm, pipeline, wanted, done)
    except CrmError as exc:
        steps = "; ".join(done) or "nothing yet"
        raise ToolFailure(
            f"Pipeline {pipeline.name!r} ({pipeline.id}) was created, but setting its stages stopped: {exc.message} "
            f"Done so far: {steps}. Finish with rename_stage, add_stage and delete_stage (list_pipelines shows its "
            "stages); creating it again would make a second pipeline."
        ) from exc
    return PipelineMade(pipeline=await crm.pipelines.find(pipeline.id))


async def add_stage(crm: CrmClient, a: AddStageArgs) -> StageAdded:
    pipelines = await crm.pipelines.list()
    chosen = find_pipeline(pipelines, a.pipeline) if a.pipeline else next((p for p in pipelines if p.is_default), None)
    pipeline_id = chosen.id if chosen is not None else (await crm.pipelines.board()).pipeline.id
    stage = await crm.pipelines.add_stage(pipeline_id, a.name)
    after = opens(next(p for p in await crm.pipelines.list() if p.id == pipeline_id))
    position = next((index for index, item in enumerate(after) if item.id == stage.id), len(after) - 1)
    previous = after[position - 1].name if position > 0 else None
    return StageAdded(
        stage=stage, pipeline=chosen.name if chosen else pipeline_id, position=position + 1, after=previous
    )
