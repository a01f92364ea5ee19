"""Shared values of the noun table: choice filters, status groups, staleness filters and orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, get_args

from pydantic import BeforeValidator, StringConstraints

from lava_crm_mcp.crm import inputs
from lava_crm_mcp.crm.activity import Before
from lava_crm_mcp.crm.filters import Choice, Flag, RefIs, Window
from lava_crm_mcp.crm.noun import Sort
from lava_crm_mcp.crm.placement import CloseWindow, NoExpectedClose

__all__ = [
    "ANY_CASE_CURRENCY",
    "CLOSE_DATES",
    "DUE_WINDOW",
    "OPEN_CASE",
    "OPEN_TASK",
    "STALE",
    "STALENESS",
    "UNPAID",
    "UPDATED_BEFORE",
    "choice",
    "id_filter",
    "values",
]

OPEN_TASK = {"open": ("New", "In Progress")}
OPEN_CASE = {"open": ("New", "Assigned", "Pending")}


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


# Upper-cased before the pattern is checked (StringConstraints' to_upper runs after it).
ANY_CASE_CURRENCY = Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=inputs.CURRENCY_PATTERN)]


def values(literal: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in get_args(literal))


ID_OR_NAME = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def id_filter(name: str, field_name: str, param: str) -> RefIs:
    return RefIs(name, field_name, param, "", annotation=ID_OR_NAME)  # "id or name": the server instructions say so


def choice(name: str, literal: Any, description: str, groups: Mapping[str, Sequence[str]] | None = None) -> Choice:
    """A filter on the field `name` (sent as `name`) by one of the Literal's values, or a group of them."""
    return Choice(name, name, name, values(literal), description, groups=dict(groups or {}))


STALE = "No activity since: a date, or days ago (14)."
UPDATED_BEFORE = Before("updated_before", "updated_at", "updated_at__lt", "A date, or days ago (14).")
STALENESS = (
    Sort("updated_asc", "updated_at"),
    Sort("updated_desc", "updated_at", descending=True),
    Sort("last_activity_asc", "last_activity", sent=False),
    Sort("last_activity_desc", "last_activity", descending=True, sent=False),
)

DUE_WINDOW = Window(
    "due",
    "due_date",
    ("due_date__gte", "due_date__lte"),
    "status",
    ("Completed",),
    "status__in",
    OPEN_TASK["open"],
    "overdue: before today, not completed; this_week: Mon-Sun.",
)
UNPAID = Flag(
    "unpaid",
    "status",
    "status__in",
    ("Draft", "Sent", "Pending"),
    ("Paid",),
    "true: Draft, Sent or Pending; false: Paid.",
)
# A deal's `closed_on` is when it is expected to close while open, and when it closed once won or lost.
UNDATED = "open deals without an expected close date are not listed (no_expected_close=true lists them)"
CLOSE_DATES = (
    CloseWindow("expected_close_from", "Open deals.", False, True, UNDATED),
    CloseWindow("expected_close_to", "Open deals.", False, False, UNDATED),
    NoExpectedClose("no_expected_close", "true: open deals with no expected close date."),
    CloseWindow("closed_from", "Won or lost deals.", True, True),
    CloseWindow("closed_to", "Won or lost deals.", True, False),
)
