"""Tool results: typed models for structured content, and their compact text for the model.

CRM text arrives made safe (`crm/text.py`). Both forms carry the same bounded data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, Field

__all__ = [
    "Created",
    "Link",
    "Parent",
    "RecordResult",
    "Related",
    "Result",
    "SearchPage",
    "cell",
    "one_line",
    "shown",
    "table",
    "values_line",
]

T = TypeVar("T", bound=BaseModel)


# A value holding any of these is shown as a JSON string, so CRM text can never pose as another column (|),
# field (; =), link id ((…)), list item (,), line (newline) or quoted value: the text parses back to the record.
UNSAFE = re.compile(r'[|;=(),"\\\n\r\t]|^\s|\s$|^-?$')


def shown(value: object) -> str:
    """CRM text as it appears in a result's text: bare when plain, else a JSON string (quoted, escaped)."""
    text = str(value)
    return text if UNSAFE.search(text) is None else json.dumps(text, ensure_ascii=False)


STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}):\d{2}(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?")


def to_the_minute(value: Any) -> Any:
    """A CRM timestamp as text shows it: to the minute (`2025-04-03T18:44:00.000000Z` → `2025-04-03T18:44Z`); the
    structured result keeps it whole."""
    if isinstance(value, str) and (found := STAMP.fullmatch(value)):
        return found[1] + (found[2] or "")
    return value


def one_line(value: object) -> str:
    """`shown`, for free text embedded in a sentence."""
    return shown(value)


class Link(BaseModel):
    """A reference to another record, with that record's display name (None when it could not be read)."""

    id: str
    name: str | None = None

    def __str__(self) -> str:
        return self.name if self.name else self.id


class Parent(Link):
    """A task's parent record, with its kind."""

    kind: str

    def __str__(self) -> str:
        return f"{self.kind}: {super().__str__()}"


def cell(value: Any) -> str:
    """One value as table text: links by name, lists comma-joined, empty as '-', CRM text `shown`."""
    if value in (None, "", []):
        return "-"
    if isinstance(value, list):
        return ", ".join(cell(item) for item in cast(list[Any], value))
    return shown(value)


def values_line(values: Iterable[object]) -> str:
    return " | ".join(cell(value) for value in values)


def table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    return [" | ".join(columns), *(values_line(row) for row in rows)]


class Result(BaseModel):
    """A tool result: structured content is the model; text is `render()`."""

    def render(self) -> str:
        raise NotImplementedError


class Related(BaseModel, Generic[T]):
    """Some records linked to a record (capped), their total, and the exact call for all of them."""

    total: int | None = None
    items: list[T]
    more: str | None = None

    def lines(self, label: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
        total = f"{self.total}" if self.total is not None else f"{len(self.items)}+"
        head = f"{label} ({total})" + (f"; all: {self.more}" if self.more else "")
        if not self.items:
            return [f"{label}: none"]
        return [head, *(f"  {line}" for line in table(columns, rows))]


class SearchPage(Result, Generic[T]):
    """Matching rows, how many there are (when known), and what was not read."""

    kind: str
    items: list[T]
    total: int | None = None
    has_more: bool
    next_call: str | None = None
    note: str | None = None
    with_activity: bool = Field(False, exclude=True)
    """The text shows the `last_activity` column only when the search read when records last had activity."""

    def head(self, *extra: str) -> str:
        count = f"{len(self.items)} of {self.total}" if self.total is not None else f"{len(self.items)}"
        more = f"more: {self.next_call}" if self.next_call else "no more"
        return "; ".join([f"{self.kind}: {count}", more, *([self.note] if self.note else []), *extra]) + "."


class RecordResult(Result, Generic[T]):
    """One record, bounded, with notes on what was cut."""

    kind: str
    record: T
    notes: list[str] = []


class Created(Result, Generic[T]):
    """A create: the new record, or only the CRM's message when it returned no id."""

    kind: str
    record: T | None
    notes: list[str] = []
    message: str | None = None
    find_with: str | None = None
