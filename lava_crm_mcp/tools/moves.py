"""Moving a deal between stages, as the board endpoint does it, plus what the CRM does not keep by itself: the two
close dates and the timeline entry.

A deal's `closed_on` means the expected close while it is open and the actual close once won or lost. So a move that
closes a deal sets `closed_on` to today (the expected date is kept in the timeline entry), and a move that reopens
it restores the expected date the last close recorded (or clears it). Every stage change leaves a timeline entry
with the caller, the stages and pipeline, and the reason given.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lava_crm_mcp.crm import CrmClient, CrmError, StageMove
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.history import timeline_details
from lava_crm_mcp.crm.models import Opportunity, PipelineRef
from lava_crm_mcp.tools.render import Result, one_line
from lava_crm_mcp.tools.timeline import write_entry

__all__ = ["MoveResult", "move_deal"]


class MoveResult(Result):
    """A deal moved: from which stage to which, whether it is now closed, its close dates, and notes on anything
    that did not follow (a close date not set, a timeline entry not written)."""

    deal_id: str
    deal_name: str | None
    pipeline: PipelineRef
    from_stage: str | None
    to_stage: str
    to_stage_id: str
    is_closed: bool
    outcome: str | None
    closed_on: str | None = None
    expected_close: str | None = None
    reason: str | None = None
    notes: list[str] = Field(default_factory=list[str])

    def render(self) -> str:
        if self.is_closed:
            expected = f"; it was expected to close {self.expected_close}" if self.expected_close else ""
            state = f" The deal is now closed ({self.outcome}) on {self.closed_on or '-'}{expected}."
        else:
            state = f" The deal is open; expected close {self.expected_close or 'not set'}."
        why = f" Reason: {one_line(self.reason)}." if self.reason else ""
        head = (
            f"Moved deal {self.deal_id} ({one_line(self.deal_name or '')}) from {self.from_stage or 'no stage'} "
            f"to {self.to_stage} in pipeline {one_line(self.pipeline.name)}.{state}{why}"
        )
        return "\n".join([head, *(f"({note})" for note in self.notes)])


def _day(value: Any) -> str | None:
    return str(value)[:10] if value not in (None, "") else None


async def _expected_before_close(crm: CrmClient, deal_id: str) -> str | None:
    """The expected close date the deal's last close recorded (its newest timeline entry that says)."""
    found = await crm.search("tasks", filters={"deal_id": deal_id, "kind": "timeline"}, limit=20)
    for task in found.items:
        details = timeline_details(task) or {}
        if "expected_close" in details:
            return _day(details["expected_close"])
    return None


async def _set_close(crm: CrmClient, deal: Opportunity, day: str | None, notes: list[str]) -> Opportunity:
    if _day(deal.closed_on) == day:
        return deal
    try:
        return await crm.records("opportunities").update(deal.id, {"closed_on": day})
    except CrmError as exc:
        notes.append(f"The move is done, but the deal's close date could not be set to {day}: {exc.message}")
        return deal


async def _dates(crm: CrmClient, move: StageMove, notes: list[str]) -> tuple[Opportunity, str | None, str | None]:
    """Set the close date the move calls for; the deal, and its actual and expected close dates."""
    was_closed = move.from_stage.is_terminal if move.from_stage else bool(move.before.is_closed)
    expected = await _expected_before_close(crm, move.deal.id) if was_closed else _day(move.before.closed_on)
    if move.to_stage.is_terminal:
        today = crm.today().isoformat()
        return await _set_close(crm, move.deal, today, notes), today, expected
    return await _set_close(crm, move.deal, expected, notes), None, expected


async def _entry(
    crm: CrmClient,
    move: StageMove,
    deal: Opportunity,
    dates: tuple[str | None, str | None],
    reason: str | None,
    batch: str | None,
) -> str | None:
    """The move's timeline entry; None when written (or when the move only repositioned the deal in its stage)."""
    source, target = move.from_stage, move.to_stage
    if source is not None and source.id == target.id:
        return None
    closed_on, expected = dates
    reopened = source is not None and source.is_terminal and not target.is_terminal
    kind = f": closed {target.stage_type}" if target.is_terminal else ": reopened" if reopened else ""
    details = {
        "from_stage": source.name if source else None,
        "to_stage": target.name,
        "to_stage_id": target.id,
        "pipeline": move.pipeline.name,
        "reason": reason,
        "closed_on": closed_on,
        "batch": batch,
    }
    kept: dict[str, Any] = {key: value for key, value in details.items() if value is not None}
    if target.is_terminal or reopened:  # a reopen restores from the last close: it must say, even "no date"
        kept["expected_close"] = expected
    what = f"Stage {source.name if source else '(none)'} → {target.name}{kind}"
    return await write_entry(crm, what, kept, {"opportunity": deal.id, "account": field_value(deal, "account")})


async def move_deal(
    crm: CrmClient,
    deal_id: str,
    stage: str,
    *,
    pipeline: str | None = None,
    above_id: str | None = None,
    below_id: str | None = None,
    reason: str | None = None,
    batch: str | None = None,
) -> MoveResult:
    """Move the deal (stage id or name, resolved in its own pipeline unless `pipeline` is named), set its close
    dates and write its timeline entry."""
    move = await crm.pipelines.move_deal_to_stage(
        deal_id, stage, pipeline=pipeline, above_id=above_id, below_id=below_id
    )
    notes: list[str] = []
    deal, closed_on, expected = await _dates(crm, move, notes)
    note = await _entry(crm, move, deal, (closed_on, expected), reason, batch)
    closed = bool(deal.is_closed) or move.to_stage.is_terminal
    return MoveResult(
        deal_id=deal.id,
        deal_name=deal.name,
        pipeline=move.pipeline,
        from_stage=move.from_stage.name if move.from_stage else None,
        to_stage=move.to_stage.name,
        to_stage_id=move.to_stage.id,
        is_closed=closed,
        outcome=move.to_stage.stage_type if closed else None,
        closed_on=closed_on,
        expected_close=expected,
        reason=reason,
        notes=[*notes, *([note] if note else [])],
    )
