"""`sync_contacts` and `sync_accounts`: up to 100 flat rows made to exist in the CRM, in two calls — the plan (row by
row: create, update with only the fields that differ, unchanged, or a decision to make; `sync_plan.py`), then, with
its confirm token, the writes, each row with its own outcome. Applying the same rows again changes nothing. A write
whose answer was lost is reported as unknown and never resent; the result names the rows to resend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

import anyio
from pydantic import Field, create_model

from lava_crm_mcp.crm import CrmClient, CrmError, CrmOutcomeUnknown
from lava_crm_mcp.crm.errors import not_taken
from lava_crm_mcp.tools._shared import WRITE, ConfirmArg, ToolArgs, ToolSpec
from lava_crm_mcp.tools.audit import AuditItem
from lava_crm_mcp.tools.progress import progress
from lava_crm_mcp.tools.render import values_line
from lava_crm_mcp.tools.sync_plan import ACCOUNT_KIND, CONTACT_KIND, Kind, Planned, Row, plan_rows
from lava_crm_mcp.tools.twophase import Previewed

__all__ = ["SYNC_ACCOUNTS", "SYNC_CONTACTS"]

AT_ONCE = 4


class Synced(Previewed):
    """A sync: the plan (outcome "preview"), or the rows applied with each one's outcome."""

    same_arguments: ClassVar[tuple[str, ...]] = ("rows",)
    kind: str
    outcome: Literal["preview", "applied", "nothing to do"]
    summary: str
    rows: list[Planned]
    resend: str | None = None

    def render(self) -> str:
        lines = [*([self.note] if self.note else []), self.summary]
        for item in self.rows:
            changes = ", ".join(f"{name}: {old!r} → {new!r}" for name, (old, new) in item.changes.items())
            said = item.detail or item.why or changes or None
            lines.append(f"  row {item.row} | {values_line([item.outcome or item.action, item.id, item.name, said])}")
            if item.candidates:
                lines.append(f"    candidates: {values_line([f'{c.name} ({c.id})' for c in item.candidates])}")
        if self.next_call:
            lines.append(f"Nothing written yet. To apply this plan, call {self.next_call} within 5 minutes.")
        if self.resend:
            lines.append(self.resend)
        return "\n".join(lines)

    def audit_items(self) -> list[AuditItem]:
        said = {"created": "done", "updated": "done", "failed": "refused", "unknown": "unknown"}
        noun = self.kind.removesuffix("s")
        return [AuditItem(noun, row.id, said[row.outcome]) for row in self.rows if row.outcome in said]  # type: ignore[arg-type]


def _counts(rows: Sequence[Planned], field: Literal["action", "outcome"]) -> str:
    found: dict[str, int] = {}
    for row in rows:
        found[str(getattr(row, field))] = found.get(str(getattr(row, field)), 0) + 1
    return ", ".join(f"{count} {name}" for name, count in found.items())


async def _apply(crm: CrmClient, kind: Kind, item: Planned, body: dict[str, Any]) -> None:
    """Write one planned row; its outcome (and the new id) go on the row."""
    records = crm.records(kind.spec.path)
    try:
        if item.action == "create":
            made = await records.create(body)
            item.id = made.record.id if made.record is not None else None
            item.outcome = "created"
        elif item.action == "update" and item.id is not None:
            await records.update(item.id, {name: new for name, (_, new) in item.changes.items()})
            item.outcome = "updated"
        else:
            item.outcome = "unchanged" if item.action == "unchanged" else "skipped"
    except CrmOutcomeUnknown as exc:
        item.outcome, item.detail = "unknown", f"{exc.message} Do not resend it; look it up first."
    except CrmError as exc:
        item.outcome, item.detail = "failed", exc.message
        item.again = not_taken(exc)


def _resend(rows: Sequence[Planned]) -> str | None:
    """Which rows were surely not written, and what to do with each: send again, or fix first."""
    busy = [str(item.row) for item in rows if item.outcome == "failed" and item.again]
    refused = [str(item.row) for item in rows if item.outcome == "failed" and not item.again]
    parts = [f"resend rows {', '.join(busy)} as they are (the CRM could not take them then)"] if busy else []
    parts += [f"fix rows {', '.join(refused)} first (the CRM refused them; see each)"] if refused else []
    return f"Not written: {'; '.join(parts)}; then sync those rows again." if parts else None


class SyncArgs(ToolArgs):
    """A sync's arguments; each noun's tool narrows `rows` to its own row model."""

    rows: list[Row]
    confirm: ConfirmArg = None


def _args(name: str, row: type[Row]) -> type[SyncArgs]:
    rows: Any = Annotated[list[row], Field(min_length=1, max_length=100)]  # type: ignore[valid-type]
    return create_model(f"{name}Arguments", __base__=SyncArgs, rows=(rows, ...))


def _tool(kind: Kind) -> ToolSpec[Any]:
    spec, name = kind.spec, f"sync_{kind.spec.plural}"

    def key(a: SyncArgs) -> str:
        rows = [item.model_dump(mode="json", exclude_none=True) for item in a.rows]
        return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()

    async def preview(crm: CrmClient, a: SyncArgs) -> Synced:
        plan = await plan_rows(crm, kind, a.rows)
        writes = any(item.action in ("create", "update") for item in plan.rows)
        outcome: Literal["preview", "nothing to do"] = "preview" if writes else "nothing to do"
        summary = f"{len(a.rows)} rows: {_counts(plan.rows, 'action')}."
        undecided = sum(1 for item in plan.rows if item.action == "decide")
        if not writes and not undecided:
            summary += " Nothing to write: the CRM already holds these rows."
        elif not writes:
            held = "; the CRM already holds the others" if undecided < len(plan.rows) else ""
            summary += f" Nothing to write until the rows to decide are settled (each says how){held}."
        return Synced(
            kind=spec.plural, outcome=outcome, summary=summary, rows=plan.rows, target=key(a), version=plan.version
        )

    async def apply(crm: CrmClient, a: SyncArgs) -> Synced:
        plan = await plan_rows(crm, kind, a.rows)
        limiter, done = anyio.CapacityLimiter(AT_ONCE), [0]

        async def one(item: Planned) -> None:
            async with limiter:
                await _apply(crm, kind, item, plan.bodies.get(item.row, {}))
            done[0] += 1
            await progress(done[0], len(plan.rows), f"syncing {spec.plural}")

        async with anyio.create_task_group() as group:
            for item in plan.rows:
                group.start_soon(one, item)
        summary = f"{len(a.rows)} rows applied: {_counts(plan.rows, 'outcome')}."
        return Synced(kind=spec.plural, outcome="applied", summary=summary, rows=plan.rows, resend=_resend(plan.rows))

    matched = "email, then phone, then name" + (" at the account" if "account" in kind.fields else "")
    return ToolSpec(
        name,
        f"Sync {spec.plural}",
        f"Create or update up to 100 {spec.plural} from rows matched by {matched}, never guessed. First call: "
        "the plan and a confirm token; the second applies it, an outcome per row.",
        _args(name, kind.row),
        Synced,
        apply,
        WRITE,
        spec.plural,
        preview=preview,
        check=lambda a: f"Call sync_{spec.plural} again with the same rows: the plan shows what is already there.",
    )


SYNC_CONTACTS = _tool(CONTACT_KIND)
SYNC_ACCOUNTS = _tool(ACCOUNT_KIND)
