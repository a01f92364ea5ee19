"""Searching a list: filters sent to the CRM and checked on every row, scanning on (bounded) when the CRM ignored some.

A CRM that honours the query answers in one request. One that ignores a filter, the search or the order is found out
by the row checks; the scan then reads further pages, at most `Budget.pages` or `Budget.seconds`, and the result says
how much it read and whether it stopped early. It never claims a complete answer it does not have.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from lava_crm_mcp.crm.activity import ActivityIndex
from lava_crm_mcp.crm.errors import CrmInvalid
from lava_crm_mcp.crm.filters import Condition, digits, field_value, phone_key, words
from lava_crm_mcp.crm.found import Found
from lava_crm_mcp.crm.models import Page, Record
from lava_crm_mcp.crm.resources import Sort

__all__ = ["Budget", "Cursor", "Found", "Plan", "anchor", "narrowed", "ordered", "position", "run_search"]

R = TypeVar("R", bound=Record)
Fetch = Callable[[int, Mapping[str, str]], Awaitable[Page[R]]]
CURSOR = re.compile(r"^(?:(\d{1,6})(?::(\d{1,3}))?|@(\d{1,5}))(~)?(?:\.([A-Za-z0-9_-]{1,16}))?(?:\*(\d{1,7}))?$")
ANCHOR = 12


@dataclass(frozen=True)
class Budget:
    """How much one search may read when the CRM ignores part of the query."""

    pages: int = 10
    seconds: float = 8.0


@dataclass(frozen=True)
class Cursor:
    """Where a search continues: the row a CRM slice starts at and rows of it already returned, or (when sorted
    here) an offset into the sorted matches."""

    start: int = 0
    skip: int = 0
    offset: int | None = None
    narrow: bool = False
    """The search text was narrowed to one word because the CRM matched the whole phrase as one string."""
    after: str | None = None
    """The last row returned (its id's last characters): the next page goes on after it wherever it moved."""
    total: int | None = None
    """How many rows the list had then: whether rows were added or removed since says where to look for `after`."""

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        match = CURSOR.match(text.strip())
        if match is None:
            raise CrmInvalid(
                f"cursor {text!r} is not valid: pass the cursor exactly as a previous result gave it.",
                fields={"cursor": ["Not a cursor from a previous result."]},
            )
        start, skip, offset, narrow, after, total = match.groups()
        anchor = cls(narrow=bool(narrow), after=after, total=int(total) if total else None)
        if offset is not None:
            return dataclasses.replace(anchor, offset=int(offset))
        return dataclasses.replace(anchor, start=int(start), skip=int(skip or 0))

    def anchored(self, row: Record, total: int | None) -> Cursor:
        """This cursor, remembering `row` as the last one returned and the list's size then."""
        return dataclasses.replace(self, after=anchor(row.id), total=total)

    def __str__(self) -> str:
        base = (
            f"@{self.offset}" if self.offset is not None else f"{self.start}" + (f":{self.skip}" if self.skip else "")
        )
        after = f".{self.after}" if self.after else ""
        return base + ("~" if self.narrow else "") + after + (f"*{self.total}" if self.total is not None else "")


def anchor(record_id: str) -> str:
    """What a cursor keeps of a row's id: its last characters, enough to tell it among a page's rows."""
    return re.sub(r"[^A-Za-z0-9_-]", "", record_id)[-ANCHOR:]


def position(rows: Sequence[Record], after: str) -> int | None:
    """Where the row a cursor remembers stands among `rows` (None: not there)."""
    return next((index for index, row in enumerate(rows) if anchor(row.id) == after), None)


@dataclass(frozen=True)
class Plan:
    """A resolved search: the text, the conditions of every filter, and the order asked for."""

    text: str | None = None
    search_fields: Sequence[str] = ()
    conditions: Sequence[Condition] = ()
    sort: Sort | None = None
    path: str = ""
    activity: ActivityIndex | None = None
    """When the records last had activity, when the search asked about it (read before the search)."""
    phones: Sequence[str] = ()
    """A phone-number query: the fields compared by their digits, whatever their format (else: none)."""

    def value(self, record: Record, name: str) -> Any:
        """A field of the record, or `last_activity` (from the activity index, as an ISO date)."""
        if name == "last_activity":
            day = self.activity.of(self.path, record) if self.activity is not None else None
            return day.isoformat() if day is not None else None
        return field_value(record, name)

    def _filter_params(self) -> dict[str, str]:
        sent: dict[str, str] = {}
        clashes: set[str] = set()
        for condition in self.conditions:
            for key, value in condition.params.items():
                if key in sent and sent[key] != value:
                    clashes.add(key)  # two filters want different values: send neither, check both locally
                sent[key] = value
        return {key: value for key, value in sent.items() if key not in clashes}

    def params(self, narrow: bool) -> dict[str, str]:
        params = self._filter_params()
        if self.text and self.phones:
            params["search"] = phone_key(self.text)[-2:]  # the CRM matches stored text: 2 digits survive any grouping
        elif self.text:
            params["search"] = max(words(self.text), key=len) if narrow else self.text
        if self.sort is not None and self.sort.sent:
            params["ordering"] = self.sort.ordering
        return params

    def unsent(self) -> list[str]:
        """Arguments with nothing to send (e.g. a stage name several pipelines share), or whose test is finer than
        what is sent: they are checked here."""
        sent = self._filter_params()
        return [
            c.arg
            for c in self.conditions
            if c.partial or not any(sent.get(key) == value for key, value in c.params.items())
        ]

    def exact(self) -> bool:
        """Whether every condition is sent to the CRM, or implied by what is (its count is then this search's)."""
        implied = {c.arg for c in self.conditions if c.implied}
        return all(arg in implied for arg in self.unsent())

    def named_unsent(self) -> list[str]:
        """The unsent arguments a result names (a default applied here, such as tasks' kind, goes unsaid)."""
        quiet = {c.arg for c in self.conditions if c.quiet}
        return [arg for arg in self.unsent() if arg not in quiet]

    def failures(self, record: Record, *, narrow: bool = False) -> list[str]:
        """The arguments the CRM was asked to apply and this record fails ("query" for the search text)."""
        local = set(self.unsent())
        failed = [c.arg for c in self.conditions if c.arg not in local and not c.test(record)]
        if self.text and not narrow and not self._text_matches(record):
            failed.insert(0, "query")
        return failed

    def matches(self, record: Record) -> bool:
        return all(condition.test(record) for condition in self.conditions) and self._text_matches(record)

    def _text_matches(self, record: Record) -> bool:
        if not self.text:
            return True
        if self.phones:
            key = phone_key(self.text)
            return any(key in digits(str(field_value(record, name) or "")) for name in self.phones)
        values = [str(field_value(record, name) or "").casefold() for name in self.search_fields]
        return all(any(word in value for value in values) for word in words(self.text))

    def key(self, record: Record) -> tuple[bool, Any]:
        """Sort key with missing values last in either direction."""
        assert self.sort is not None
        raw = self.value(record, self.sort.field)
        value: Any = Decimal(str(raw)) if raw not in (None, "") and self.sort.field == "amount" else raw
        return (value is None, value if value is not None else "")


def ordered(rows: list[R], plan: Plan) -> list[R]:
    """`rows` sorted in place by the plan's order, missing values last either way (no order: left as they are)."""
    if plan.sort is not None:
        rows.sort(key=plan.key, reverse=plan.sort.descending)
        if plan.sort.descending:
            rows.sort(key=lambda row: plan.key(row)[0])
    return rows


def narrowed(rows: Sequence[R], plan: Plan, limit: int) -> Found[R]:
    """A search answered from rows already read (all the records it could match): filtered, ordered, counted."""
    matching = ordered([row for row in rows if plan.matches(row)], plan)
    found = Found[R](items=matching[:limit], total=len(matching), scanned=len(rows), activity=plan.activity)
    found.next = Cursor(offset=limit) if len(matching) > limit else None
    return found


async def run_search(fetch: Fetch[R], plan: Plan, cursor: Cursor, limit: int, budget: Budget | None = None) -> Found[R]:
    """Search with `plan` from `cursor`, returning at most `limit` matching rows."""
    from lava_crm_mcp.crm.scan import Scan, in_plan_order  # the scan reads with this module's cursors and plans

    scan = Scan(fetch, plan, limit, budget or Budget())
    scan.found.activity = plan.activity
    if cursor.offset is not None or (plan.sort is not None and not plan.sort.sent):
        return await scan.sorted_here(cursor)
    first = await scan.page(cursor.start, cursor.narrow)
    phrase = plan.text and not plan.phones and len(words(plan.text)) > 1
    if phrase and not first.items and cursor.start == 0 and not cursor.narrow:
        cursor = Cursor(narrow=True)  # the CRM matched the phrase as one string: search one word, check all here
        first = await scan.page(0, True)
    if plan.sort is not None and not in_plan_order(plan, first.items):
        return await scan.sorted_here(cursor)
    return await scan.in_order(cursor, first)
