"""Finding a stage on a board by id or by name, the way a person would type it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from lava_crm_mcp.crm.errors import UnknownStage
from lava_crm_mcp.crm.models import Stage

__all__ = ["find_stage", "normalize"]


def normalize(name: str) -> str:
    """Case- and whitespace-insensitive form of a stage name."""
    return " ".join(name.split()).casefold()


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
    by_key = {normalize(name): name for name in names}
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.5)
    suggestion = by_key[close[0]] if close else None
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    raise UnknownStage(
        f"No stage {wanted.strip()!r} in pipeline {pipeline_name!r}.{hint} Valid stages: "
        f"{', '.join(repr(name) for name in names)}. To use a new stage, add it to the pipeline first.",
        valid=names,
        suggestion=suggestion,
    )
