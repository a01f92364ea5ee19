"""Many records in one call: move deals to a stage, update tasks, read records by id across nouns.

Each item is done on its own (a few at a time toward the CRM), reports its own outcome, and a failure on one never
hides the others'. A write whose answer was lost is reported as unknown, never retried; the result gives the exact
call that resends only the items the CRM could not take then (busy, unreachable, out of balance: surely unchanged),
and says which it refused (a resend would be refused again). Long batches report MCP progress.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal

import anyio
from pydantic import BaseModel, Field, StringConstraints

from lava_crm_mcp.crm import CrmClient, CrmError, CrmOutcomeUnknown
from lava_crm_mcp.crm.errors import not_taken
from lava_crm_mcp.crm.inputs import TaskPriority, TaskStatus
from lava_crm_mcp.crm.resources import TASKS
from lava_crm_mcp.tools._shared import WRITE, IdArg, Lookup, ToolArgs, ToolFailure, ToolSpec, next_call
from lava_crm_mcp.tools.audit import AuditItem
from lava_crm_mcp.tools.lifecycle import before_update
from lava_crm_mcp.tools.moves import move_deal
from lava_crm_mcp.tools.progress import progress
from lava_crm_mcp.tools.render import Result, values_line

__all__ = ["MOVE_DEALS", "UPDATE_TASKS", "Batch", "Item", "run_batch"]

logger = logging.getLogger("lava_crm_mcp.tools")
AT_ONCE = 4  # items in flight toward the CRM
Ids = Annotated[list[IdArg], Field(min_length=1, max_length=50)]
Outcome = Literal["done", "unchanged", "failed", "unknown"]


class Item(BaseModel):
    """One item of a batch: its record, what happened, and what to know (the change, or why it failed)."""

    id: str
    name: str | None = None
    outcome: Outcome
    detail: str | None = None
    again: bool = Field(default=False, exclude=True)
    """Failed because the CRM could not take it then (the same call may succeed later), not refused."""


class Batch(Result):
    """A batch's outcome: one line saying how it went, then each item."""

    kind: str
    summary: str
    items: list[Item]
    resend: str | None = None
    """The exact call that retries only the items the CRM could not take then (never refused ones, never those whose
    outcome is unknown)."""

    def render(self) -> str:
        lines = [self.summary, *(f"  {values_line([i.id, i.name, i.outcome, i.detail])}" for i in self.items)]
        refused = sum(1 for item in self.items if item.outcome == "failed" and not item.again)
        if refused:
            lines.append(f"Not to resend as they are: {refused} refused (a resend would be refused again; see each).")
        return "\n".join([*lines, *([f"Resend those the CRM could not take: {self.resend}"] if self.resend else [])])

    def audit_items(self) -> list[AuditItem]:
        said = {"done": "done", "unchanged": "done", "failed": "refused", "unknown": "unknown"}
        return [AuditItem(self.kind, item.id, said[item.outcome]) for item in self.items]  # type: ignore[arg-type]


Work = Callable[[str], Awaitable[Item]]


async def _one(work: Work, ident: str) -> Item:
    try:
        return await work(ident)
    except CrmOutcomeUnknown as exc:
        return Item(id=ident, outcome="unknown", detail=exc.message)
    except CrmError as exc:
        return Item(id=ident, outcome="failed", detail=exc.message, again=not_taken(exc))
    except ToolFailure as exc:
        return Item(id=ident, outcome="failed", detail=str(exc))
    except Exception:  # one item's bug must not hide the others' outcomes
        logger.exception("a batch item failed unexpectedly")
        return Item(id=ident, outcome="failed", detail="failed inside lava-crm-mcp (a bug; see the server log)")


async def run_batch(ids: Sequence[str], work: Work, what: str) -> list[Item]:
    """`work` on every id (each once, in the given order of results), a few at a time, reporting progress."""
    unique = list(dict.fromkeys(ids))
    found: dict[str, Item] = {}
    limiter = anyio.CapacityLimiter(AT_ONCE)

    async def each(ident: str) -> None:
        async with limiter:
            found[ident] = await _one(work, ident)
        await progress(len(found), len(unique), f"{what}: {len(found)} of {len(unique)}")

    async with anyio.create_task_group() as group:
        for ident in unique:
            group.start_soon(each, ident)
    return [found[ident] for ident in unique]


def summary(kind: str, items: Sequence[Item], done: str) -> str:
    counts = {outcome: sum(1 for item in items if item.outcome == outcome) for outcome in ("done", "unchanged")}
    counts |= {outcome: sum(1 for item in items if item.outcome == outcome) for outcome in ("failed", "unknown")}
    parts = [f"{counts['done']} {done}"]
    parts += [f"{counts[o]} {label}" for o, label in (("unchanged", "unchanged"), ("failed", "failed")) if counts[o]]
    if counts["unknown"]:
        parts.append(f"{counts['unknown']} with an unknown outcome (check them before anything else)")
    return f"{len(items)} {kind}: " + ", ".join(parts) + "."


def resend(tool: str, arguments: dict[str, Any], field: str, items: Sequence[Item]) -> str | None:
    failed = [item.id for item in items if item.outcome == "failed" and item.again]
    return next_call(tool, {field: failed, **arguments}) if failed else None


Reason = Annotated[str | None, StringConstraints(max_length=255), Field(description="Why; kept in each timeline.")]


class MoveDealsArgs(ToolArgs):
    deal_ids: Ids
    stage: Annotated[Lookup, Field(description="Stage id or name, in each deal's own pipeline.")]
    pipeline: Annotated[Lookup | None, Field(description="Only to move them into another pipeline.")] = None
    reason: Reason = None


async def move_deals_to_stage(crm: CrmClient, a: MoveDealsArgs) -> Batch:
    batch = secrets.token_hex(4)  # ties the timeline entries of one batch together

    async def one(deal_id: str) -> Item:
        moved = await move_deal(crm, deal_id, a.stage, pipeline=a.pipeline, reason=a.reason, batch=batch)
        if moved.from_stage == moved.to_stage:
            return Item(id=deal_id, name=moved.deal_name, outcome="unchanged", detail=f"already in {moved.to_stage}")
        change = f"{moved.from_stage or '(none)'} → {moved.to_stage}"
        notes = f"; {'; '.join(moved.notes)}" if moved.notes else ""
        return Item(id=deal_id, name=moved.deal_name, outcome="done", detail=change + notes)

    items = await run_batch(a.deal_ids, one, "moving deals")
    again = {"stage": a.stage, **({"pipeline": a.pipeline} if a.pipeline else {}), "reason": a.reason}
    return Batch(
        kind="deal",
        summary=summary("deals", items, f"moved to {a.stage}"),
        items=items,
        resend=resend("move_deals_to_stage", again, "deal_ids", items),
    )


class UpdateTasksArgs(ToolArgs):
    task_ids: Ids
    status: TaskStatus | None = Field(None, description="Completed records the day and who.")
    priority: TaskPriority | None = None
    due_date: dt.date | None = None


async def update_tasks(crm: CrmClient, a: UpdateTasksArgs) -> Batch:
    changes = a.model_dump(exclude={"task_ids"}, exclude_none=True, mode="json")
    if not changes:
        raise ToolFailure("Nothing to update: pass task_ids and at least one of status, priority, due_date.")

    async def one(task_id: str) -> Item:
        these = dict(changes)
        notes = await before_update(crm, TASKS, task_id, these)
        task = await crm.records(TASKS.path).update(task_id, these)
        said = ", ".join(f"{key}={value}" for key, value in changes.items())
        return Item(id=task_id, name=TASKS.display(task), outcome="done", detail="; ".join([said, *notes]))

    items = await run_batch(a.task_ids, one, "updating tasks")
    return Batch(
        kind="task",
        summary=summary("tasks", items, "updated"),
        items=items,
        resend=resend("update_tasks", changes, "task_ids", items),
    )


MOVE_DEALS: ToolSpec[Any] = ToolSpec(
    "move_deals_to_stage",
    "Move deals to stage",
    "Move up to 50 deals to one stage (as move_deal_to_stage, each in its own pipeline); one outcome per deal.",
    MoveDealsArgs,
    Batch,
    move_deals_to_stage,
    WRITE,
    "deals",
    check=lambda a: "See where they are now with search_deals or get_pipeline_board before resending any.",
)
UPDATE_TASKS: ToolSpec[Any] = ToolSpec(
    "update_tasks",
    "Update tasks",
    "Set status, priority or due date on up to 50 tasks at once; one outcome per task.",
    UpdateTasksArgs,
    Batch,
    update_tasks,
    WRITE,
    "tasks",
    check=lambda a: "See them as they are now with search_tasks before resending any.",
)
