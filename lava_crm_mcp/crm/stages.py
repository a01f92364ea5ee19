"""Finding pipelines and stages by id or by name, the way a person would type them."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from lava_crm_mcp.crm.errors import CrmInvalid, CrmProtocolError, UnknownPipeline, UnknownStage
from lava_crm_mcp.crm.models import Pipeline, Stage

__all__ = ["find_pipeline", "find_stage", "home_of", "locate_stage", "locate_unplaced", "normalize", "stages_named"]


def normalize(name: str) -> str:
    """Case- and whitespace-insensitive form of a stage or pipeline name."""
    return " ".join(name.split()).casefold()


def _suggestion(wanted: str, names: Sequence[str]) -> str | None:
    by_key = {normalize(name): name for name in names}
    close = difflib.get_close_matches(normalize(wanted), list(by_key), n=1, cutoff=0.5)
    return by_key[close[0]] if close else None


def _listed(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


def find_stage(stages: Sequence[Stage], wanted: str, *, pipeline_name: str) -> Stage:
    """The stage whose id is `wanted`, else whose name matches it; else UnknownStage with the valid names."""
    for stage in stages:
        if stage.id == wanted.strip():
            return stage
    key = normalize(wanted)
    for stage in stages:
        if normalize(stage.name) == key:
            return stage
    names = [stage.name for stage in stages]
    suggestion = _suggestion(wanted, names)
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    raise UnknownStage(
        f"No stage {wanted.strip()!r} in pipeline {pipeline_name!r}.{hint} Valid stages: {_listed(names)}. "
        "To use a new stage, add it to the pipeline first.",
        valid=names,
        suggestion=suggestion,
    )


def find_pipeline(pipelines: Sequence[Pipeline], wanted: str) -> Pipeline:
    """The pipeline whose id is `wanted`, else whose name matches it; else UnknownPipeline with the valid names."""
    key = normalize(wanted)
    for pipeline in pipelines:
        if pipeline.id == wanted.strip() or normalize(pipeline.name) == key:
            return pipeline
    names = [pipeline.name for pipeline in pipelines]
    suggestion = _suggestion(wanted, names)
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    raise UnknownPipeline(
        f"No pipeline {wanted.strip()!r}.{hint} Pipelines: {_listed(names)} (list_pipelines shows their ids).",
        valid=names,
    )


def stages_named(pipelines: Sequence[Pipeline], wanted: str, *, within: Pipeline | None = None) -> list[Stage]:
    """Every stage with this id or name, in `within` or in any pipeline; UnknownStage when there is none."""
    scope = [within] if within is not None else list(pipelines)
    if within is not None:
        return [find_stage(within.stages, wanted, pipeline_name=within.name)]
    key = normalize(wanted)
    found = [stage for p in scope for stage in p.stages if stage.id == wanted.strip() or normalize(stage.name) == key]
    if found:
        return found
    names = list(dict.fromkeys(stage.name for p in scope for stage in p.stages))
    suggestion = _suggestion(wanted, names)
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    raise UnknownStage(
        f"No stage {wanted.strip()!r} in any pipeline.{hint} Stages: {_listed(names)}.",
        valid=names,
        suggestion=suggestion,
    )


def home_of(pipeline_id: str | None, stage_id: str | None, pipelines: Sequence[Pipeline]) -> Pipeline:
    """A deal's pipeline: the one holding its stage, else the one it names, else the default."""
    for pipeline in pipelines:
        if stage_id in {stage.id for stage in pipeline.stages} or pipeline.id == pipeline_id:
            return pipeline
    default = next((pipeline for pipeline in pipelines if pipeline.is_default), None)
    if default is None:
        raise CrmProtocolError("The CRM lists no pipelines, so no stage can be resolved.")
    return default


def _elsewhere(pipelines: Sequence[Pipeline], wanted: str, besides: Pipeline) -> Pipeline | None:
    """The other pipeline holding a stage with this id or name, if exactly one does."""
    key = normalize(wanted)
    others = [
        p
        for p in pipelines
        if p.id != besides.id and any(s.id == wanted.strip() or normalize(s.name) == key for s in p.stages)
    ]
    return others[0] if len(others) == 1 else None


def locate_stage(
    pipelines: Sequence[Pipeline], wanted: str, *, pipeline: str | None = None, home: Pipeline | None = None
) -> tuple[Pipeline, Stage]:
    """A stage by id or name: in `pipeline` when named, else in `home` (the deal's own pipeline) or the default.

    A stage of another pipeline is never taken silently: the error names that pipeline and how to ask for it.
    """
    if pipeline is not None:
        chosen = find_pipeline(pipelines, pipeline)
        return chosen, find_stage(chosen.stages, wanted, pipeline_name=chosen.name)
    scope = home or home_of(None, None, pipelines)
    try:
        return scope, find_stage(scope.stages, wanted, pipeline_name=scope.name)
    except UnknownStage as error:
        other = _elsewhere(pipelines, wanted, scope)
        if other is None:
            raise
        whose = "this deal's pipeline" if home is not None else "the default pipeline"
        raise UnknownStage(
            f"Stage {wanted.strip()!r} is in pipeline {other.name!r}, not in {whose} {scope.name!r} (stages: "
            f"{_listed(error.valid)}). To use {other.name!r}, call again with pipeline={other.name!r}.",
            valid=error.valid,
            suggestion=None,
        ) from None


def locate_unplaced(pipelines: Sequence[Pipeline], wanted: str, deal_id: str) -> tuple[Pipeline, Stage]:
    """A stage by id or name for a deal whose pipeline is unknown: the one pipeline holding it. When several hold a
    stage of that name, the caller must say which (never the default pipeline by guess)."""
    ids = {stage.id for stage in stages_named(pipelines, wanted)}  # none: UnknownStage naming every stage
    found = [(p, s) for p in pipelines for s in p.stages if s.id in ids]
    if len(found) == 1:
        return found[0]
    names = [p.name for p, _ in found]
    raise CrmInvalid(
        f"Stage {wanted.strip()!r} is in {len(names)} pipelines ({_listed(names)}), and where deal {deal_id!r} sits is "
        f"not known (its record does not say and no board shows it). Call again with pipeline={names[0]!r} or another "
        "of them.",
        fields={"pipeline": [f"Needed: one of {_listed(names)}."]},
    )
