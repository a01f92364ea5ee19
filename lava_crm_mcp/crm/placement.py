"""Where a deal sits on the boards (pipeline, stage, open/won/lost), and the deal filters that depend on it.

The board is the one truth for a deal's stage: the legacy `stage` enum on /api/opportunities/ is never read here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lava_crm_mcp.crm.filters import Condition, Env, field_value
from lava_crm_mcp.crm.models import Pipeline, Record, Stage
from lava_crm_mcp.crm.stages import find_pipeline, stages_named

__all__ = ["DEAL_STATUSES", "DealStatus", "InStage", "OnPipeline", "Placement", "Status", "place"]

Status = Literal["open", "won", "lost"]
DEAL_STATUSES: tuple[Status, ...] = ("open", "won", "lost")


@dataclass(frozen=True)
class Placement:
    """A deal's pipeline and stage (None when the CRM did not say or the ids are unknown) and its status."""

    pipeline: Pipeline | None
    stage: Stage | None
    status: Status | None


def _status(stage: Stage | None, is_closed: Any) -> Status | None:
    if stage is not None:
        return stage.stage_type if stage.stage_type in ("won", "lost") else "open"  # type: ignore[return-value]
    return "open" if is_closed is False else None


def place(deal: Record, pipelines: Sequence[Pipeline]) -> Placement:
    """Find the deal's stage (and pipeline) among the pipelines by the ids the deal carries."""
    stage_id, pipeline_id = field_value(deal, "pipeline_stage"), field_value(deal, "pipeline")
    for pipeline in pipelines:
        for stage in pipeline.stages:
            if stage.id == stage_id:
                return Placement(pipeline, stage, _status(stage, field_value(deal, "is_closed")))
    pipeline = next((p for p in pipelines if p.id == pipeline_id), None)
    return Placement(pipeline, None, _status(None, field_value(deal, "is_closed")))


def _in_stages(ids: set[str]) -> Callable[[Record], bool]:
    def test(record: Record) -> bool:
        return field_value(record, "pipeline_stage") in ids

    return test


@dataclass(frozen=True)
class OnPipeline:
    """The deal sits on this pipeline (id or name)."""

    name: str
    description: str
    annotation: Any = str

    def condition(self, value: Any, env: Env) -> Condition:
        pipeline = find_pipeline(env.pipelines, str(value))
        ids = {stage.id for stage in pipeline.stages}
        return Condition(
            self.name,
            {"pipeline": pipeline.id},
            lambda record: (
                field_value(record, "pipeline") == pipeline.id or field_value(record, "pipeline_stage") in ids
            ),
        )


@dataclass(frozen=True)
class InStage:
    """The deal sits in this stage (id, or name within `pipeline` when given, else in any pipeline)."""

    name: str
    description: str
    pipeline_arg: str = "pipeline"
    annotation: Any = str

    def condition(self, value: Any, env: Env) -> Condition:
        chosen = env.values.get(self.pipeline_arg)
        within = find_pipeline(env.pipelines, str(chosen)) if chosen else None
        ids = {stage.id for stage in stages_named(env.pipelines, str(value), within=within)}
        params = {"pipeline_stage": next(iter(ids))} if len(ids) == 1 else {}
        return Condition(self.name, params, _in_stages(ids))


@dataclass(frozen=True)
class DealStatus:
    """The deal is open (in an open stage), won or lost, by the type of its board stage."""

    name: str
    description: str

    @property
    def annotation(self) -> Any:
        return Status

    def condition(self, value: Any, env: Env) -> Condition:
        wanted = str(value)
        ids = {stage.id for p in env.pipelines for stage in p.stages if _status(stage, None) == wanted}
        params = {"open": "true"} if wanted == "open" else {"open": "false", "stage_type": wanted}

        def test(record: Record) -> bool:
            known = {stage.id for p in env.pipelines for stage in p.stages}
            if field_value(record, "pipeline_stage") in known:
                return field_value(record, "pipeline_stage") in ids
            return _status(None, field_value(record, "is_closed")) == wanted

        return Condition(self.name, params, test)
