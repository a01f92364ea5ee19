"""What the CRM's tasks hold besides a rep's own tasks, and how each is recognised.

The Lava API has no activity or history endpoint, so this server keeps both as completed tasks:
- an **activity** (a logged call, email, meeting or note) is titled with its kind, `[Call] Pricing questions`;
- a **timeline entry** (a stage move, a close, a reopen, a merge, a batch change) is titled `[Timeline] …` and its
  description starts with `TIMELINE_MARK` and holds the entry's details as JSON. Only this server writes that mark, so
  a rep's task that happens to start with `[Timeline]` stays a task.
A task completed through this server also ends its description with a completion line (`COMPLETED`), which gives
it the date it was done and who did it; `completed_on` is read from the CRM instead when it has such a field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from lava_crm_mcp.crm.filters import Condition, Env, field_value, literal
from lava_crm_mcp.crm.models import Record

__all__ = [
    "ACTIVITY_PREFIXES",
    "COMPLETED",
    "TASK_KINDS",
    "TIMELINE_MARK",
    "TIMELINE_PREFIX",
    "CompletedWindow",
    "Completion",
    "TaskKind",
    "completion",
    "completion_line",
    "task_kind",
    "timeline_details",
    "timeline_text",
    "without_completion",
]

ACTIVITY_PREFIXES = {"call": "[Call] ", "email": "[Email] ", "meeting": "[Meeting] ", "note": "[Note] "}
TIMELINE_PREFIX = "[Timeline] "
TIMELINE_MARK = "lava-crm-mcp timeline v1"
COMPLETED = re.compile(r"(?:\n\n)?\[lava-crm-mcp: completed (\d{4}-\d{2}-\d{2}) by ([^\]\n]{1,120})\]\s*\Z")
Kind = Literal["task", "activity", "timeline"]
TASK_KINDS = ("task", "activity", "timeline", "any", *ACTIVITY_PREFIXES)
COMPLETED_FIELDS = ("completed_on", "completed_at", "completion_date", "date_completed")


def _title(record: Record) -> str:
    return str(field_value(record, "title") or "").casefold()


def task_kind(record: Record) -> Kind:
    """A rep's task, a logged activity, or a timeline entry this server wrote."""
    description = str(field_value(record, "description") or "")
    if _title(record).startswith(TIMELINE_PREFIX.casefold()) and description.startswith(TIMELINE_MARK):
        return "timeline"
    if _title(record).startswith(tuple(prefix.casefold() for prefix in ACTIVITY_PREFIXES.values())):
        return "activity"
    return "task"


def timeline_text(details: Mapping[str, Any]) -> str:
    """A timeline entry's description: the mark, then its details as one line of JSON."""
    return f"{TIMELINE_MARK}\n{json.dumps(dict(details), ensure_ascii=False, sort_keys=True)}"


def timeline_details(record: Record) -> dict[str, Any] | None:
    """The details of a timeline entry (None for any other task, or an entry whose details cannot be read)."""
    if task_kind(record) != "timeline":
        return None
    _, _, body = str(field_value(record, "description") or "").partition("\n")
    try:
        details = json.loads(body)
    except ValueError:
        return None
    return cast(dict[str, Any], details) if isinstance(details, dict) else None


@dataclass(frozen=True)
class Completion:
    """When a task was completed, and by whom when this server recorded it."""

    on: dt.date
    by: str | None = None


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value not in (None, "") else None
    except ValueError:
        return None


def completion(record: Record) -> Completion | None:
    """A completed task's completion: the CRM's own field when it has one, else this server's completion line."""
    if str(field_value(record, "status") or "").casefold() != "completed":
        return None
    for name in COMPLETED_FIELDS:
        if (day := _day(field_value(record, name))) is not None:
            return Completion(day)
    found = COMPLETED.search(str(field_value(record, "description") or ""))
    return Completion(dt.date.fromisoformat(found[1]), found[2]) if found else None


def completion_line(day: dt.date, by: str) -> str:
    """The line this server appends to a task's description when it completes the task."""
    return f"[lava-crm-mcp: completed {day.isoformat()} by {' '.join(by.replace(']', ')').split())[:120]}]"


def without_completion(description: str | None) -> str:
    """A description without this server's completion line (the text a person wrote)."""
    return COMPLETED.sub("", description or "")


@dataclass(frozen=True)
class TaskKind:
    """What kind of task: a rep's `task` (the default), a logged `activity` or one kind of it (`call`, …), a
    `timeline` entry, or `any`. Activity kinds are sent as a title prefix; the rest is checked here."""

    name: str
    description: str
    default: str = "task"

    @property
    def annotation(self) -> Any:
        return literal(TASK_KINDS)

    def condition(self, value: Any, env: Env) -> Condition:
        wanted = str(value)
        if wanted in ACTIVITY_PREFIXES:
            prefix = ACTIVITY_PREFIXES[wanted].casefold()
            return Condition(self.name, {"title__istartswith": prefix.strip()}, lambda r: _title(r).startswith(prefix))
        if wanted == "any":
            return Condition(self.name, {}, lambda record: True, quiet=True, implied=True)
        if wanted in ("timeline", "activity"):  # every prefix of either starts with "[": the CRM can narrow that far
            prefix = TIMELINE_PREFIX.strip() if wanted == "timeline" else "["
            return Condition(self.name, {"title__istartswith": prefix.casefold()}, lambda r: task_kind(r) == wanted)
        # Activities and timeline entries are written completed: a status that excludes Completed excludes them too.
        not_done = str(env.values.get("status") or "").casefold() not in ("", "completed")
        test: Callable[[Record], bool] = lambda record: task_kind(record) == wanted  # noqa: E731
        return Condition(self.name, {}, test, quiet=wanted == self.default, implied=wanted == "task" and not_done)


@dataclass(frozen=True)
class CompletedWindow:
    """A bound on the day a task was completed (`completion`). A completed task without that day (completed
    outside this server, where the CRM keeps no date) never matches; the result says so."""

    name: str
    description: str
    lower: bool
    annotation: Any = dt.date
    undated: str | None = "tasks completed without a recorded date are not listed"

    def condition(self, value: Any, env: Env) -> Condition:
        bound: dt.date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

        def test(record: Record) -> bool:
            done = completion(record)
            return done is not None and (done.on >= bound if self.lower else done.on <= bound)

        return Condition(self.name, {"status": "Completed"}, test, partial=True)
