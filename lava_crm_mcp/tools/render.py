"""Tool results: typed models for structured content, compact text for the model, CRM text made safe."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any, Generic, TypeVar, cast

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel

__all__ = ["Created", "Deleted", "RecordPage", "RecordResult", "Result", "clean", "to_call_result", "values_line"]

KEEP = frozenset("\n\t")
# Fields left out of the text (still in structured content): a deal's legacy enum says nothing about its board stage.
TEXT_SKIP = {"deal": ("id", "stage")}
T = TypeVar("T", bound=BaseModel)


def clean_text(text: str) -> str:
    """Strip control, format (zero-width, bidi, tag) and private-use characters from CRM text."""
    return "".join(ch for ch in text if ch in KEEP or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs"))


def clean(value: Any) -> Any:
    """`clean_text` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: clean(item) for key, item in cast(dict[str, Any], value).items()}
    if isinstance(value, list):
        return [clean(item) for item in cast(list[Any], value)]
    return value


def one_line(value: object) -> str:
    return " ".join(str(value).split())


def values_line(values: Iterable[object]) -> str:
    return " | ".join("-" if value in (None, "", []) else one_line(value) for value in values)


def fields_line(data: dict[str, Any], skip: Iterable[str] = ()) -> str:
    """`key=value; …` for the fields that carry something."""
    skipped = set(skip)
    shown = [
        f"{key}={one_line(', '.join(map(str, cast(list[Any], value))) if isinstance(value, list) else value)}"
        for key, value in data.items()
        if key not in skipped and value not in (None, "", [])
    ]
    return "; ".join(shown)


class Result(BaseModel):
    """A tool result: structured content is the model; text is `render()`."""

    def render(self) -> str:
        raise NotImplementedError


class RecordPage(Result, Generic[T]):
    """One page of compact rows."""

    kind: str
    page: int
    has_more: bool
    total: int | None = None
    next_call: str | None = None
    items: list[T]

    def render(self) -> str:
        total = f" of {self.total}" if self.total is not None else ""
        more = f"; more: {self.next_call}" if self.next_call else "; no more pages"
        head = f"{self.kind} page {self.page}: {len(self.items)}{total}{more}"
        if not self.items:
            return head
        columns = list(type(self.items[0]).model_fields)
        rows = [values_line(getattr(item, column) for column in columns) for item in self.items]
        return "\n".join([head, values_line(columns), *rows])


class RecordResult(Result, Generic[T]):
    """One whole record."""

    kind: str
    record: T

    def render(self) -> str:
        data = self.record.model_dump(mode="json")
        return f"{self.kind} {data.get('id')}: {fields_line(data, skip=TEXT_SKIP.get(self.kind, ('id',)))}"


class Created(Result, Generic[T]):
    """A create: the new record, or only the CRM's message when it returned no id."""

    kind: str
    record: T | None
    message: str | None = None
    find_with: str | None = None

    def render(self) -> str:
        if self.record is None:
            said = f" ({self.message})" if self.message else ""
            return (f"The CRM accepted the new {self.kind}{said} but returned no id, so it was not re-read. "
                    f"Do not create it again; find it with {self.find_with}.")  # fmt: skip
        data = self.record.model_dump(mode="json")
        return f"Created {self.kind} {data.get('id')}: {fields_line(data, skip=TEXT_SKIP.get(self.kind, ('id',)))}"


class Deleted(Result):
    kind: str
    id: str
    deleted: bool = True

    def render(self) -> str:
        return f"Deleted {self.kind} {self.id}."


def to_call_result(result: Result) -> CallToolResult:
    """Clean CRM text once, then ship the model as structured content and its compact rendering as text."""
    safe = type(result).model_validate(clean(result.model_dump(mode="json")))
    return CallToolResult(
        content=[TextContent(type="text", text=safe.render())], structured_content=safe.model_dump(mode="json")
    )
