"""Where a deal sits on the boards (pipeline, stage, open/won/lost), and the deal filters that depend on it.

The board is the one truth for a deal's stage: the legacy `stage` enum on /api/opportunities/ is never read here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lava_crm_mcp.crm.filters import Condition, Env, field_value
from lava_crm_mcp.crm.models import Pipeline, Record, Stage
from lava_crm_mcp.crm.stages import find_pipeline, stages_named

__all__ = [
    "DEAL_STATUSES",
    "CloseWindow",
    "DealStatus",
    "InStage",
    "NoExpectedClose",
    "OnPipeline",
    "Placement",
    "Status",
    "place",
    "status_of",
]

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


def status_of(deal: Record, pipelines: Sequence[Pipeline]) -> Status | None:
    """A deal's status by its board stage (by `is_closed` when its stage is not known)."""
    return place(deal, pipelines).status


def _closed_day(deal: Record) -> str | None:
    value = field_value(deal, "closed_on")
    return str(value)[:10] if value not in (None, "") else None


@dataclass(frozen=True)
class CloseWindow:
    """A bound on a deal's close date, read by its status: for open deals `closed_on` is the date they are expected
    to close; for won and lost deals, the date they closed. A deal without the date never matches (the result
    says so)."""

    name: str
    description: str
    closed: bool
    """False: the expected close of open deals; True: the actual close of won or lost deals."""
    lower: bool
    undated: str | None = None
    """What a result says of the deals a bound leaves out for having no date."""
    annotation: Any = dt.date

    def condition(self, value: Any, env: Env) -> Condition:
        bound = value.isoformat() if isinstance(value, dt.date) else str(value)
        params = {
            "closed_on__gte" if self.lower else "closed_on__lte": bound,
            "open": "false" if self.closed else "true",
        }

        def test(record: Record) -> bool:
            status, day = status_of(record, env.pipelines), _closed_day(record)
            if (status in ("won", "lost")) != self.closed or status is None or day is None:
                return False
            return day >= bound if self.lower else day <= bound

        return Condition(self.name, params, test)


@dataclass(frozen=True)
class NoExpectedClose:
    """true: open deals with no expected close date; false: open deals with one."""

    name: str
    description: str
    annotation: Any = bool

    def condition(self, value: Any, env: Env) -> Condition:
        def test(record: Record) -> bool:
            return status_of(record, env.pipelines) == "open" and (_closed_day(record) is None) == bool(value)

        return Condition(self.name, {"open": "true", "closed_on__isnull": "true" if value else "false"}, test)
