"""The tolerant reader: every list, detail, write and error shape of both dialects, read one way."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import ValidationError

from lava_crm_mcp.crm.errors import (
    CrmAuthError,
    CrmConflict,
    CrmError,
    CrmInvalid,
    CrmNotFound,
    CrmProtocolError,
    CrmRateLimited,
    CrmUnavailable,
)
from lava_crm_mcp.crm.models import Page, WireModel

__all__ = ["PAGE_SIZE", "Ack", "decode", "error_for", "read_items", "read_page", "read_record", "read_write"]

PAGE_SIZE = 20
M = TypeVar("M", bound=WireModel)
Path = tuple[str, ...]
_NOT_FIELDS = frozenset({"detail", "error", "errors", "message", "status", "code", "non_field_errors"})
_CATALOGUES = frozenset({"users", "countries", "status", "source", "industries", "teams", "tags", "comments"})


@dataclass(frozen=True)
class Ack:
    """A write the CRM acknowledged without returning the record."""

    id: str | None
    message: str | None


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


def _dig(body: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(body, dict):
            return None
        body = cast(dict[str, Any], body).get(key)
    return body


def _is_record_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "id" in item for item in cast(list[Any], value))


def _validate(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CrmProtocolError(
            f"The CRM returned {what} in a shape we cannot read ({exc.error_count()} problem(s), "
            f"first at {'.'.join(map(str, exc.errors()[0]['loc'])) or 'top level'})."
        ) from None


def read_items(body: Any, list_paths: Iterable[Path] = ()) -> tuple[list[Any], bool | None, int | None]:
    """Find the records of a list body: (items, has_more if the body says, total if known)."""
    if isinstance(body, list):
        return cast(list[Any], body), None, None
    if not isinstance(body, dict):
        raise CrmProtocolError("The CRM answered a list request without a list.")
    data = cast(dict[str, Any], body)
    if isinstance(data.get("results"), list):
        return data["results"], data.get("next") is not None, data.get("count")
    found = [_dig(data, path) for path in list_paths]
    lists: list[list[Any]] = [value for value in found if isinstance(value, list)]
    if not lists:
        lists = [value for key, value in data.items() if key not in _CATALOGUES and _is_record_list(value)]
    if not lists:
        raise CrmProtocolError(f"The CRM answered a list request with keys {sorted(data)[:8]} and no records.")
    items = [item for value in lists for item in value]
    has_more = data["offset"] is not None if "offset" in data else None
    return items, has_more, None


def _total(body: Any, count_paths: Iterable[Path]) -> int | None:
    counts = [_dig(body, path) for path in count_paths]
    numbers = [count for count in counts if isinstance(count, int)]
    return sum(numbers) if numbers else None


def read_page(
    body: Any, model: type[M], *, page: int, list_paths: Iterable[Path] = (), count_paths: Iterable[Path] = ()
) -> Page[M]:
    items, has_more, total = read_items(body, list_paths)
    if total is None:
        total = _total(body, count_paths)
    if has_more is None:
        has_more = total > page * PAGE_SIZE if total is not None else len(items) >= PAGE_SIZE
    records = [_validate(model, item, "a list item") for item in items]
    return Page[M](items=records, page=page, has_more=has_more, total=total)


def read_record(body: Any, model: type[M], *, detail_keys: Iterable[str] = (), what: str = "a record") -> M:
    """A detail body: bare, or wrapped under a known key, or the one nested object with an id."""
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
                return _validate(model, candidates[0], what)
    return _validate(model, body, what)


def read_write(body: Any) -> dict[str, Any] | Ack:
    """A write's answer: the record itself, or an acknowledgement with (maybe) an id."""
    if isinstance(body, dict):
        data = cast(dict[str, Any], body)
        if data.get("error") is False or ("message" in data and set(data) <= {"error", "message", "id", "status"}):
            found = data.get("id")
            return Ack(id=None if found is None else str(found), message=data.get("message"))
        return data
    return Ack(id=None, message=None)


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in cast(list[Any], value)]
    return [str(value)]


def _flatten(errors: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            fields |= _flatten(cast(dict[str, Any], value), f"{name}.")
        else:
            fields[name] = _messages(value)
    return fields


def _explain(body: Any) -> tuple[str | None, dict[str, list[str]]]:
    """The error's own words: (a detail sentence, field -> messages)."""
    if not isinstance(body, dict):
        return (excerpt(body) or None) if isinstance(body, str) else None, {}
    data = cast(dict[str, Any], body)
    errors = data.get("errors")
    if isinstance(errors, dict):
        return None, _flatten(cast(dict[str, Any], errors))
    detail = errors if isinstance(errors, str) else data.get("detail") or data.get("message")
    if "non_field_errors" in data:
        detail = "; ".join(_messages(data["non_field_errors"]))
    fields = _flatten({key: value for key, value in data.items() if key not in _NOT_FIELDS})
    return (str(detail) if detail else None), fields


def _describe(detail: str | None, fields: Mapping[str, list[str]]) -> str:
    parts = [detail] if detail else []
    parts += [f"{name}: {' '.join(msgs)}" for name, msgs in fields.items()]
    return "; ".join(parts) or "no details given"


def error_for(status: int, body: Any, *, what: str, write: bool, retry_after: float | None = None) -> CrmError:
    """Translate a failed response into the error tree, with a message that says what to do next."""
    detail, fields = _explain(body)
    said = _describe(detail, fields)
    if status in (401, 403):
        return CrmAuthError(
            f"The CRM refused the credential for {what} (HTTP {status}: {said}). "
            "Check the configured Lava key or CRM token; retrying will not help.",
            status=status,
        )
    if status == 404:
        return CrmNotFound(
            f"{what} was not found in this org (HTTP 404: {said}). Check the id; list or search to find valid ids.",
            status=404,
        )
    if status == 413:
        return CrmInvalid(
            f"The CRM refused {what} as too large (HTTP 413). Send less text, or split the change.", status=413
        )
    if status in (400, 422):
        rejected = f"The CRM rejected {what}: {said.rstrip('.')}. Fix these and call again."
        return CrmInvalid(rejected, fields=fields, status=status)
    if status == 409:
        return CrmConflict(
            f"{what} conflicts with the current data (HTTP 409: {said}). Re-read it, then retry.", status=409
        )
    if status == 429:
        wait = f"retry in {retry_after:g} s" if retry_after is not None else "wait a little before retrying"
        return CrmRateLimited(f"The CRM is rate limiting requests ({what}); {wait}.", retry_after=retry_after)
    if status >= 500:
        after = " The write may or may not have been applied: read it back before retrying." if write else ""
        return CrmUnavailable(
            f"The CRM failed on its side for {what} (HTTP {status}: {said}).{after} "
            "It is usually temporary; try again shortly.",
            status=status,
        )
    return CrmError(f"The CRM answered HTTP {status} for {what}: {said}.", status=status)
