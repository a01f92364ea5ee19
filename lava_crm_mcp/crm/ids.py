"""Ids and input checks that run before any request: nothing malformed reaches a URL path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from lava_crm_mcp.crm.errors import CrmInvalid
from lava_crm_mcp.crm.inputs import PATTERN_HINTS

__all__ = ["check_id", "explain", "validate_body"]

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
B = TypeVar("B", bound=BaseModel)


def check_id(value: object, field: str = "id") -> str:
    """A path-safe id (a UUID or a short [A-Za-z0-9_-] token), percent-encoded for the path."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        shown = repr(value)[:40]
        raise CrmInvalid(
            f"{field} {shown} is not a valid id: ids are UUIDs or short tokens of letters, digits, '-' and '_'. "
            "Copy the id exactly from a search or get result.",
            fields={field: ["Not a valid id."]},
        )
    return quote(value, safe="")


DATE_ERRORS = frozenset({"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"})


def explain(error: ErrorDetails) -> str:
    """A validation error in plain words: what a pattern means rather than the pattern itself."""
    if error["type"] in DATE_ERRORS:
        return "must be a date like 2026-01-31 (YYYY-MM-DD)"
    pattern = (error.get("ctx") or {}).get("pattern")
    return PATTERN_HINTS.get(str(pattern), error["msg"]) if pattern is not None else error["msg"]


def validate_body(model: type[B], data: B | Mapping[str, Any], what: str) -> B:
    """A typed body, or CrmInvalid naming each bad field and, for unknown ones, the valid fields."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "body"
            text = "Unknown field." if error["type"] == "extra_forbidden" else explain(error)
            fields.setdefault(name, []).append(text)
        said = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
        valid = ", ".join(model.model_fields)
        raise CrmInvalid(f"Invalid {what}: {said}. Valid fields: {valid}.", fields=fields) from None
