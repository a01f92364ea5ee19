"""Staleness: when records last changed (`updated_before`) and when they last had activity (`no_activity_since`,
`last_activity`), the latter from logged activities and timeline entries read in one bounded scan.

The CRM cannot say when a deal last had activity, and its tasks can be filtered by one parent at a time only. So a
search that asks about activity (`no_activity_since`, or a sort by `last_activity`) first reads the org's activities
and timeline entries (completed tasks, newest first, from a date when one is given, at most `Budget` pages) and keeps,
for every record they concern, the newest date. Never one read per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from pydantic import Field, WithJsonSchema

from lava_crm_mcp.crm.filters import Condition, Env, field_value
from lava_crm_mcp.crm.history import task_kind
from lava_crm_mcp.crm.models import Record

__all__ = ["ActivityIndex", "Before", "DayOrDays", "NoActivitySince", "days_back", "read_activity"]

# A day given as a date or as a number of days back from today; shown to a model as one short type.
DayOrDays = Annotated[dt.date | Annotated[int, Field(ge=0, le=3650)], WithJsonSchema({"type": ["string", "integer"]})]


def days_back(value: Any, today: dt.date) -> dt.date:
    """A date given as a date, or as a number of days back from today (14: the day two weeks ago)."""
    return value if isinstance(value, dt.date) else today - dt.timedelta(days=int(value))


PARENTS = {
    "opportunities": "opportunity",
    "accounts": "account",
    "cases": "case",
    "contacts": "contacts",
    "leads": "lead",
}
Search = Callable[..., Awaitable[Any]]


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass
class ActivityIndex:
    """The newest activity date of every record the activities read concern, from `since` on (None: all read)."""

    since: dt.date | None = None
    complete: bool = True
    """Every activity since `since` was read (else: only the newest `read`)."""
    read: int = 0
    latest: dict[tuple[str, str], dt.date] = field(default_factory=dict[tuple[str, str], dt.date])

    def of(self, path: str, record: Record) -> dt.date | None:
        """The newest activity date of a record of `path` (None: none among those read)."""
        return self.on(path, record.id)

    def on(self, path: str, ident: str) -> dt.date | None:
        """The newest activity date of the record of `path` with this id (None: none among those read)."""
        return self.latest.get((PARENTS.get(path, path), ident))

    def note(self) -> str:
        """What `last_activity` covers, for a result's note."""
        since = f" since {self.since}" if self.since else ""
        if self.complete:
            return f"last_activity from all {self.read} activities and timeline entries{since}"
        return f"last_activity from the newest {self.read} activities and timeline entries{since} (more exist)"

    def add(self, task: Record) -> None:
        day = _day(field_value(task, "due_date"))
        if day is None or task_kind(task) == "task":
            return
        self.read += 1
        for parent in PARENTS.values():
            value: Any = field_value(task, parent)
            idents: list[Any] = cast(list[Any], value) if isinstance(value, list) else [value]
            for ident in idents:
                if ident not in (None, ""):
                    key = (parent, str(ident))
                    self.latest[key] = max(day, self.latest.get(key, day))


async def read_activity(search: Search, since: dt.date | None, limit: int) -> ActivityIndex:
    """Activities and timeline entries (completed tasks whose title marks them), newest first, from `since`."""
    filters: Mapping[str, Any] = {"status": "Completed", **({"due_from": since} if since else {})}
    found = await search("tasks", filters=filters, sort="due_date_desc", limit=limit)
    index = ActivityIndex(since=since, complete=found.next is None and not found.stopped_early)
    for task in found.items:
        index.add(task)
    return index


@dataclass(frozen=True)
class NoActivitySince:
    """No activity or timeline entry on or after this date (or in the last N days): stalled records."""

    name: str
    description: str
    path: str
    annotation: Any = DayOrDays
    needs_activity: bool = True

    def since(self, value: Any, today: dt.date) -> dt.date:
        return days_back(value, today)

    def condition(self, value: Any, env: Env) -> Condition:
        index = env.activity
        if index is None:
            raise RuntimeError("no_activity_since needs the activity index read first")
        return Condition(self.name, {}, lambda record: index.of(self.path, record) is None)


@dataclass(frozen=True)
class Before:
    """The field's date is before this day, given as a date or as days back from today (14: not in the last 14
    days). A record without the date never matches."""

    name: str
    field: str
    param: str
    description: str
    annotation: Any = DayOrDays

    def condition(self, value: Any, env: Env) -> Condition:
        limit = days_back(value, env.today).isoformat()

        def test(record: Record) -> bool:
            day = _day(field_value(record, self.field))
            return day is not None and day.isoformat() < limit

        return Condition(self.name, {self.param: limit}, test)
