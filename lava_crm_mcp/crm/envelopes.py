"""The tolerant reader: every list, detail, write and error shape of both dialects, read one way."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import ValidationError

from lava_crm_mcp.crm.errors import (
    CrmProtocolError,
)
from lava_crm_mcp.crm.models import UNREADABLE, Page, WireModel
from lava_crm_mcp.crm.paging import PAGE_SIZE, Slice

__all__ = ["PAGE_SIZE", "Ack", "decode", "excerpt", "read_page", "read_record", "read_row", "read_write"]

M = TypeVar("M", bound=WireModel)
Path = tuple[str, ...]
_NOT_FIELDS = frozenset({"detail", "error", "errors", "message", "status", "code", "non_field_errors"})


@dataclass(frozen=True)
class Ack:
    """A write the CRM acknowledged without returning the record."""

    id: str | None
    message: str | None


LABEL_KEYS = ("name", "title", "invoice_title")


def _nested_label(value: Any) -> str | None:
    """The display name a nested reference carries (`{"id": …, "name": …}`), if any."""
    if not isinstance(value, dict):
        return None
    data = cast(dict[str, Any], value)
    person = " ".join(filter(None, (data.get("first_name"), data.get("last_name"))))
    found = [*(data.get(key) for key in LABEL_KEYS), person]
    return next((str(label) for label in found if isinstance(label, str) and label.strip()), None)


def nested_labels(data: Any) -> dict[str, str]:
    """The names of references the CRM sent nested in a record (`{"id": …, "name": …}`), by referenced id."""
    found: dict[str, str] = {}
    if isinstance(data, dict):
        for value in cast(dict[str, Any], data).values():
            if isinstance(value, dict):
                items: list[Any] = [value]
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                items = cast(list[Any], value)
            else:
                continue  # a plain value (most fields) names nothing
            for item in items:
                label = _nested_label(item)
                if label is not None and item.get("id") is not None:
                    found[str(item["id"])] = label
    return found


def decode(text: str, status: int) -> Any:
    """JSON body, or None when empty; anything else is a protocol error with a short excerpt."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise CrmProtocolError(
            f"The CRM answered HTTP {status} with a non-JSON body ({excerpt(text)!r}). "
            "A proxy or gateway may be failing; try again shortly.",
            status=status,
        ) from None


def excerpt(text: str, limit: int = 120) -> str:
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
    return plain[:limit] + ("…" if len(plain) > limit else "")


def _labelled(record: M, data: Any) -> M:
    """The record, knowing the names of the references the CRM sent nested in it."""
    labels = nested_labels(data)
    if labels:
        record._labels = labels  # pyright: ignore[reportPrivateUsage]
    return record


def _validate(model: type[M], data: Any, what: str) -> M:
    try:
        return _labelled(model.model_validate(data), data)
    except ValidationError as exc:
        keys = f"; it has keys {sorted(cast(dict[str, Any], data))[:8]}" if isinstance(data, dict) else ""
        raise CrmProtocolError(
            f"The CRM returned {what} in a shape we cannot read ({exc.error_count()} problem(s), "
            f"first at {'.'.join(map(str, exc.errors()[0]['loc'])) or 'top level'}{keys})."
        ) from None


def _lenient(model: type[M], data: Any, what: str) -> M:
    """A record; a field in a form we cannot read is kept as raw text under `_unreadable` instead of failing the
    record (the id must be readable: without it there is no record)."""
    try:
        return _labelled(model.model_validate(data), data)
    except ValidationError as exc:
        if not isinstance(data, dict):
            return _validate(model, data, what)
        item = cast(dict[str, Any], data)
        bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"] and error["loc"][0] != "id"}
        kept = {key: value for key, value in item.items() if key not in bad}
        raw = {key: str(item[key])[:200] for key in bad if key in item}
        return _validate(model, {**kept, UNREADABLE: raw}, what)


def read_row(model: type[M], item: Any) -> M:
    """A list row, read leniently: one odd field never fails the page."""
    return _lenient(model, item, "a list item")


def read_page(
    body: Any, model: type[M], *, start: int, list_paths: Iterable[Path] = (), count_paths: Iterable[Path] = ()
) -> Page[M]:
    """One slice of a list: its rows (read leniently), the total when the reply says, where the next starts."""
    found = Slice.read(body, start, size=PAGE_SIZE, list_paths=list_paths, count_paths=count_paths)
    rows = [read_row(model, item) for item in found.rows]
    return Page[M](items=rows, start=start, next_start=found.next_start, total=found.total)


def read_record(
    body: Any, model: type[M], *, detail_keys: Iterable[str] = (), what: str = "a record", lenient: bool = False
) -> M:
    """A detail body: bare, or wrapped under a known key, or the one nested object with an id. `lenient` reads a
    CRM record as a list row is read (an odd field kept as raw text); structure (pipelines, stages) stays strict."""
    read = _lenient if lenient else _validate
    if isinstance(body, dict):
        data = cast(dict[str, Any], body)
        if "id" not in data:
            wrapped: list[Any] = [data[key] for key in detail_keys if isinstance(data.get(key), dict)]
            nested: list[Any] = [
                value
                for key, value in data.items()
                if key not in model.model_fields and isinstance(value, dict) and "id" in value
            ]
            candidates = wrapped or (nested if len(nested) == 1 else [])
            if candidates:
                return read(model, candidates[0], what)
    return read(model, body, what)


def read_write(body: Any) -> dict[str, Any] | Ack:
    """A write's answer: the record itself (bare, or nested in an acknowledgement under its noun, as
    `{"error": false, "message": …, "invoice": {…}}`), or an acknowledgement with (maybe) an id."""
    if isinstance(body, dict):
        data = cast(dict[str, Any], body)
        if data.get("error") is False or ("message" in data and set(data) <= {"error", "message", "id", "status"}):
            nested = [cast(dict[str, Any], v) for v in data.values() if isinstance(v, dict) and "id" in v]
            if len(nested) == 1:
                return nested[0]
            found = data.get("id")
            return Ack(id=None if found is None else str(found), message=data.get("message"))
        return data
    return Ack(id=None, message=None)
