"""Shared values of the noun table: choice lists, status groups, and how a logged activity is recognised."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import BeforeValidator, StringConstraints

from lava_crm_mcp.crm import inputs
from lava_crm_mcp.crm.filters import Prefix, RefIs

__all__ = [
    "ACTIVITY_KIND",
    "ACTIVITY_PREFIXES",
    "ANY_CASE_CURRENCY",
    "OPEN_CASE",
    "OPEN_TASK",
    "id_filter",
    "values",
]

OPEN_TASK = {"open": ("New", "In Progress")}
OPEN_CASE = {"open": ("New", "Assigned", "Pending")}


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


# Upper-cased before the pattern is checked (StringConstraints' to_upper runs after it).
ANY_CASE_CURRENCY = Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=inputs.CURRENCY_PATTERN)]
# The API has no activity endpoint: a logged call, email, meeting or note is a completed task whose title starts
# with its kind, "[Call] Pricing questions", the way mainstream CRMs file a logged call as a done task.
ACTIVITY_PREFIXES = {"call": "[Call] ", "email": "[Email] ", "meeting": "[Meeting] ", "note": "[Note] "}
ACTIVITY_KIND = Prefix(
    "kind",
    "title",
    "title__istartswith",
    ACTIVITY_PREFIXES,
    "Logged activities (log_activity); activity: any kind.",
    groups={"activity": tuple(ACTIVITY_PREFIXES)},
)


def values(literal: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in get_args(literal))


def id_filter(name: str, field_name: str, param: str, what: str) -> RefIs:
    return RefIs(name, field_name, param, f"{what} id.", annotation=inputs.Id)
