"""The timeline kept in the CRM itself: every stage move, close, reopen, merge and batch change made through this
server leaves a completed task on the record it concerns, saying when, what, why, and who (`caller()`).

Entries are written after the change succeeded. If an entry cannot be written, the change still stands and the
result says so in a note; nothing is undone or retried. How entries are recognised is in `crm/history.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from lava_crm_mcp.crm import CrmClient, CrmError, CrmOutcomeUnknown
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.history import TIMELINE_PREFIX, timeline_details, timeline_text
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.tools.caller import caller
from lava_crm_mcp.tools.render import shown

__all__ = ["Entry", "entry_of", "write_entry"]

TITLE = 255


async def write_entry(crm: CrmClient, what: str, details: Mapping[str, Any], links: Mapping[str, Any]) -> str | None:
    """Write one entry (`what` is its title after the `[Timeline]` mark, e.g. "Stage: Proposal → Won") linked to
    `links` (task fields: opportunity, account, contacts, …). None when written; else the note the result carries."""
    who = caller()
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    reason = f": {' '.join(str(details['reason']).split())}" if details.get("reason") else ""
    body = {  # the reason in the title too, so a list of entries answers "lost this week, and why" in one call
        "title": f"{TIMELINE_PREFIX}{what} (by {who.name}){reason}"[:TITLE],
        "status": "Completed",
        "due_date": crm.today().isoformat(),
        "description": timeline_text({"at": at, "by": who.label, **details}),
        **{name: value for name, value in links.items() if value not in (None, "", [])},
    }
    try:
        await crm.records("tasks").create(body)
    except CrmOutcomeUnknown:
        return "The change is done; its timeline entry may not have been written (the CRM's answer was lost)."
    except CrmError as exc:
        return f"The change is done, but its timeline entry could not be written: {exc.message}"
    return None


class Entry(BaseModel):
    """One timeline entry as a result shows it: when, who, what, and the details the server recorded."""

    id: str
    at: str | None = None
    by: str | None = None
    what: str
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict[str, Any])

    def text(self) -> str:
        when = (self.at or "")[:16].replace("T", " ")
        why = f"; reason: {shown(self.reason)}" if self.reason else ""
        return f"{when} {shown(self.what)}; by {shown(self.by or '?')}{why}"


SHOWN_DETAILS = ("from_stage", "to_stage", "to_stage_id", "pipeline", "expected_close", "closed_on", "merged", "batch")


def entry_of(task: Record) -> Entry | None:
    """The entry a timeline task holds (None for any other task)."""
    details = timeline_details(task)
    if details is None:
        return None
    title = str(field_value(task, "title") or "").removeprefix(TIMELINE_PREFIX)
    who = str(details.get("by") or "").split(" via ")[0]
    what = title.split(f" (by {who})", 1)[0] if who and f" (by {who})" in title else title.rsplit(" (by ", 1)[0]
    kept = {key: details[key] for key in SHOWN_DETAILS if details.get(key) not in (None, "")}
    return Entry(
        id=task.id,
        at=details.get("at"),
        by=details.get("by"),
        what=what,
        reason=details.get("reason"),
        details=kept,
    )
