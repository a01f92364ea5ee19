"""List filters: the kinds a resource declares, each an SQL test with one `?`, and the query string read into them.

Every SQL text here is built from the declarative table in resources.py (field names checked as identifiers);
user values only ever travel as bound parameters.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import Invalid

Schema = dict[str, Any]
SEPARATOR = "\x1f"
"""Joins the search fields in the `search` column; a search term never contains it, so never spans two fields."""
NEWEST_FIRST = "created_at DESC, seq DESC"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TERMS = re.compile(r"[\s,]+")
_BOOLEANS = {"true": 1, "1": 1, "yes": 1, "on": 1, "false": 0, "0": 0, "no": 0, "off": 0}
_PLACED = "id IN (SELECT p.deal_id FROM placements p JOIN stages s ON s.id = p.stage_id WHERE {} = ?)"


def _same(raw: str) -> str:
    return raw


def _number(raw: str) -> float:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ValueError("Enter a number.") from None
    if not number.is_finite():
        raise ValueError("Enter a number.")
    return float(number)


def _day(raw: str) -> str:
    try:
        if _DAY.fullmatch(raw):
            return date.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    raise ValueError("Enter a valid date.")


def _boolean(raw: str) -> int:
    if raw.lower() not in _BOOLEANS:
        raise ValueError("Must be a valid boolean.")
    return _BOOLEANS[raw.lower()]


def _items(raw: str) -> str:
    return json.dumps([item.strip() for item in raw.split(",") if item.strip()])


def _terms(raw: str) -> str:
    return json.dumps([term for term in _TERMS.split(raw.casefold().replace(SEPARATOR, "")) if term])


@dataclass(frozen=True, eq=False)
class Value:
    """How a raw query value is read (`read` raises ValueError with the message), compared and documented."""

    read: Callable[[str], object]
    schema: Schema
    cast: str = "{}"
    """The field's SQL expression as compared with this value (`{}`: the json_extract of the field)."""
    bounds: tuple[str, str] = ("at least", "at most")
    """How the docs word a lower and an upper bound."""


TEXT = Value(_same, {"type": "string"})
FOLDED = Value(str.casefold, {"type": "string"})
NUMBER = Value(_number, {"type": "string", "format": "decimal"}, "CAST({} AS REAL)")
DAY = Value(_day, {"type": "string", "format": "date"}, bounds=("on or after", "on or before"))
BOOLEAN = Value(_boolean, {"type": "boolean"})
ITEMS = Value(_items, {"type": "string"})
TERMS = Value(_terms, {"type": "string"})


@dataclass(frozen=True)
class Param:
    """One list query parameter: its name, the SQL test it adds (with exactly one `?`), its value and meaning."""

    name: str
    test: str
    value: Value
    doc: str


@dataclass(frozen=True)
class Sort:
    """A key the `ordering` parameter accepts (as `name` or `-name`), and the SQL expression it sorts by."""

    name: str
    expr: str


def _path(field: str) -> str:
    if not field.isidentifier():
        raise ValueError(f"not a field name: {field!r}")
    return f"'$.{field}'"


def _json(field: str) -> str:
    return f"json_extract(data, {_path(field)})"


def searching(fields: Sequence[str]) -> Param:
    """DRF SearchFilter: every term (split on spaces and commas) is a substring of at least one field."""
    test = "NOT EXISTS (SELECT 1 FROM json_each(?) AS term WHERE instr(records.search, term.value) = 0)"
    doc = f"Every word (split on spaces and commas) appears, in any case, in one of: {', '.join(fields)}."
    return Param("search", test, TERMS, doc)


def exact(field: str) -> Param:
    return Param(field, f"{_json(field)} = ?", TEXT, f"Exactly this {field}.")


def iexact(field: str) -> Param:
    return Param(field, f"{_json(field)} = ? COLLATE NOCASE", TEXT, f"This {field}, in any letter case.")


def contains(field: str, name: str) -> Param:
    return Param(name, f"instr(casefold({_json(field)}), ?) > 0", FOLDED, f"{field} contains this text, in any case.")


def starts(field: str) -> Param:
    return Param(
        f"{field}__istartswith",
        f"instr(casefold({_json(field)}), ?) = 1",
        FOLDED,
        f"{field} starts with this text, in any case.",
    )


def has(field: str) -> Param:
    test = f"EXISTS (SELECT 1 FROM json_each(records.data, {_path(field)}) AS item WHERE item.value = ?)"  # noqa: S608
    return Param(field, test, TEXT, f"The {field} list includes this id.")


def one_of(field: str) -> Param:
    test = f"{_json(field)} IN (SELECT value FROM json_each(?))"  # noqa: S608
    return Param(f"{field}__in", test, ITEMS, f"{field} is one of these comma-separated values.")


def between(field: str, value: Value, *, joiner: str = "__") -> tuple[Param, Param]:
    """`field{joiner}gte` and `field{joiner}lte`; a record without the field matches neither bound."""
    expr, unset = value.cast.format(_json(field)), f"records without {field} never match"
    return (
        Param(f"{field}{joiner}gte", f"{expr} >= ?", value, f"{field} {value.bounds[0]} this; {unset}."),
        Param(f"{field}{joiner}lte", f"{expr} <= ?", value, f"{field} {value.bounds[1]} this; {unset}."),
    )


def placed(name: str, column: str, value: Value, doc: str) -> Param:
    """A deal's place on the board: `column` (of placements p / stages s) equals the value."""
    return Param(name, _PLACED.format(column), value, doc)


def by(field: str, value: Value = TEXT) -> Sort:
    return Sort(field, value.cast.format(_json(field)))


CREATED = Sort("created_at", "created_at")
UPDATED = Sort("updated_at", "updated_at")
UPDATED_BEFORE = Param("updated_at__lt", "updated_at < ?", DAY, "Last changed before this day (updated_at).")


@dataclass(frozen=True)
class Query:
    """A list query read and checked: the SQL tests with their arguments (all AND-ed) and the ORDER BY."""

    tests: tuple[tuple[str, object], ...] = ()
    order: str = NEWEST_FIRST


def _order(sorts: Sequence[Sort], raw: str) -> str:
    """`key` or `-key` first (records without it last in both directions), then newest first."""
    if not raw:
        return NEWEST_FIRST
    known, name = {sort.name: sort.expr for sort in sorts}, raw.removeprefix("-")
    if name not in known:
        raise ValueError(f"Select a valid choice. {raw} is not one of the available choices.")
    return f"{known[name]} {'DESC' if raw.startswith('-') else 'ASC'} NULLS LAST, {NEWEST_FIRST}"


def read_query(params: Sequence[Param], sorts: Sequence[Sort], query: Mapping[str, str]) -> Query:
    """The given parameters (empty ones ignored, as unknown ones are); any bad value is a 400 naming its field."""
    tests: list[tuple[str, object]] = []
    errors: dict[str, list[str]] = {}
    for param in params:
        raw = query.get(param.name, "").strip()
        try:
            tests += [(param.test, param.value.read(raw))] if raw else []
        except ValueError as exc:
            errors[param.name] = [str(exc)]
    order = NEWEST_FIRST
    try:
        order = _order(sorts, query.get("ordering", "").strip()) if sorts else NEWEST_FIRST
    except ValueError as exc:
        errors["ordering"] = [str(exc)]
    if errors:
        raise Invalid(errors)
    return Query(tuple(tests), order)
