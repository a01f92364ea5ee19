"""List filters: each kind says what argument it takes, what query parameter it sends, and how a row is checked.

The CRM's list filters beyond `page`/`search` are not documented, so every filter is sent as the parameter the
Django-CRM family uses AND checked on every returned row: a CRM that ignores a parameter cannot make a search lie.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from lava_crm_mcp.crm.ids import check_id
from lava_crm_mcp.crm.models import Pipeline, Record

if TYPE_CHECKING:
    from lava_crm_mcp.crm.activity import ActivityIndex

__all__ = [
    "AtLeast",
    "AtMost",
    "Choice",
    "Condition",
    "Env",
    "Equals",
    "FilterSpec",
    "Flag",
    "Matches",
    "RefIs",
    "Window",
    "digits",
    "field_value",
    "is_phone",
    "literal",
    "phone_key",
    "words",
]

Test = Callable[[Record], bool]


@dataclass(frozen=True)
class Condition:
    """One resolved filter: the argument it came from, what to send, and the check every returned row must pass."""

    arg: str
    params: Mapping[str, str]
    test: Test
    quiet: bool = False
    """Applied by default, not asked for: checked like any other, but not named in a result's notes."""
    implied: bool = False
    """Nothing to send, but what is sent already ensures it (the CRM's count is still exact)."""
    partial: bool = False
    """What is sent only narrows the rows; the test is finer and made here (a completion day, where the CRM knows
    only the status): a row failing it is no sign that the CRM ignored what was sent, and the CRM's count is not
    this search's."""


@dataclass(frozen=True)
class Env:
    """What resolving a filter may need: today's date, every filter value given, and (deals) the pipelines."""

    today: dt.date
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict[str, Any])
    pipelines: Sequence[Pipeline] = ()
    activity: ActivityIndex | None = None
    """When records last had activity (read first when a filter or the order asks about it)."""


class FilterSpec(Protocol):
    """A declared filter of a noun: an argument name, its type and description, and how it resolves."""

    @property
    def name(self) -> str: ...

    @property
    def annotation(self) -> Any: ...

    @property
    def description(self) -> str: ...

    def condition(self, value: Any, env: Env) -> Condition: ...


def literal(values: Sequence[str]) -> Any:
    """`Literal[...]` of values known only at run time (an enum in the argument's schema)."""
    form: Any = Literal
    return form[tuple(values)]


def field_value(record: Record, name: str) -> Any:
    """A field of a record, declared or extra (None when absent); read from the instance's own storage, as this runs
    for every cell of every row."""
    fields = record.__dict__
    return fields[name] if name in fields else (record.__pydantic_extra__ or {}).get(name)


def words(text: str) -> list[str]:
    """Search terms as DRF splits them: on whitespace and commas, compared case-insensitively."""
    return [word.casefold() for word in text.replace(",", " ").split()]


PHONE = re.compile(r"^\+?[\d\s().\-/]{6,40}$")
KEY_DIGITS = 8  # a number's last digits: the part every way of writing it keeps


def digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def is_phone(text: str) -> bool:
    """A query that is a phone number (at least 6 digits, nothing but digits, spaces, + ( ) . - /)."""
    return PHONE.match(text.strip()) is not None and len(digits(text)) >= 6


def phone_key(text: str) -> str:
    """What identifies a number in any format: its digits without the national 0, at most the last 8 (so
    +44 20 7946 0958, 020 7946 0958 and 79460958 share it)."""
    return digits(text).lstrip("0")[-KEY_DIGITS:]


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _day(value: Any) -> str | None:
    return str(value)[:10] if value not in (None, "") else None


@dataclass(frozen=True)
class RefIs:
    """The record references this id (a single reference equal to it, or a list of references holding it)."""

    name: str
    field: str
    param: str
    description: str
    annotation: Any = str

    def condition(self, value: Any, env: Env) -> Condition:
        wanted = str(value)
        check_id(wanted, self.name)

        def test(record: Record) -> bool:
            found = field_value(record, self.field)
            return wanted in cast(list[Any], found) if isinstance(found, list) else found == wanted

        return Condition(self.name, {self.param: wanted}, test)


@dataclass(frozen=True)
class Choice:
    """The field equals one of the allowed values (case-insensitive); `groups` are values standing for several."""

    name: str
    field: str
    param: str
    values: Sequence[str]
    description: str
    groups: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict[str, Sequence[str]])

    @property
    def annotation(self) -> Any:
        return literal([*self.values, *self.groups])

    def condition(self, value: Any, env: Env) -> Condition:
        members = tuple(self.groups.get(str(value), (str(value),)))
        allowed = {member.casefold() for member in members}
        params = {self.param: members[0]} if len(members) == 1 else {f"{self.param}__in": ",".join(members)}
        return Condition(
            self.name, params, lambda record: str(field_value(record, self.field) or "").casefold() in allowed
        )


@dataclass(frozen=True)
class Matches:
    """The field contains this text (case-insensitive)."""

    name: str
    field: str
    param: str
    description: str
    annotation: Any = str

    def same(self, found: str, wanted: str) -> bool:
        return wanted in found

    def condition(self, value: Any, env: Env) -> Condition:
        wanted = str(value).strip()
        folded = wanted.casefold()
        return Condition(
            self.name,
            {self.param: wanted},
            lambda record: self.same(str(field_value(record, self.field) or "").casefold(), folded),
        )


@dataclass(frozen=True)
class Equals(Matches):
    """The field equals this value (case-insensitive)."""

    def same(self, found: str, wanted: str) -> bool:
        return found == wanted


@dataclass(frozen=True)
class Flag:
    """A yes/no question answered by the field's value: true means one of `when_true`, false one of `when_false`."""

    name: str
    field: str
    param: str
    when_true: Sequence[str]
    when_false: Sequence[str]
    description: str
    annotation: Any = bool

    def condition(self, value: Any, env: Env) -> Condition:
        members = self.when_true if value else self.when_false
        allowed = {member.casefold() for member in members}
        return Condition(
            self.name,
            {self.param: ",".join(members)},
            lambda record: str(field_value(record, self.field) or "").casefold() in allowed,
        )


def _bound(name: str, field_name: str, param: str, value: Any, kind: type, lower: bool) -> Condition:
    """`field >= value` (lower) or `field <= value`, as numbers or as ISO dates; a missing value never matches."""
    read: Callable[[Any], Any] = _number if kind is Decimal else _day
    limit: Any = read(value)
    shown = str(limit)

    def test(record: Record) -> bool:
        found: Any = read(field_value(record, field_name))
        return found is not None and limit is not None and bool(found >= limit if lower else found <= limit)

    return Condition(name, {param: shown}, test)


@dataclass(frozen=True)
class AtLeast:
    name: str
    field: str
    param: str
    annotation: Any
    description: str

    def condition(self, value: Any, env: Env) -> Condition:
        return _bound(self.name, self.field, self.param, value, self.annotation, lower=True)


@dataclass(frozen=True)
class AtMost:
    name: str
    field: str
    param: str
    annotation: Any
    description: str

    def condition(self, value: Any, env: Env) -> Condition:
        return _bound(self.name, self.field, self.param, value, self.annotation, lower=False)


WINDOWS = ("overdue", "today", "this_week", "next_7_days")


@dataclass(frozen=True)
class Window:
    """A date window relative to today: overdue (before today and not done), today, this_week, next_7_days."""

    name: str
    field: str
    params: tuple[str, str]
    done_field: str
    done: Sequence[str]
    open_param: str
    open_values: Sequence[str]
    description: str

    @property
    def annotation(self) -> Any:
        return literal(WINDOWS)

    def span(self, value: str, today: dt.date) -> tuple[dt.date | None, dt.date]:
        if value == "overdue":
            return None, today - dt.timedelta(days=1)
        if value == "today":
            return today, today
        if value == "this_week":
            monday = today - dt.timedelta(days=today.weekday())
            return monday, monday + dt.timedelta(days=6)
        return today, today + dt.timedelta(days=7)

    def condition(self, value: Any, env: Env) -> Condition:
        start, end = self.span(str(value), env.today)
        params = {self.params[1]: end.isoformat()}
        if start is not None:
            params[self.params[0]] = start.isoformat()
        done = {state.casefold() for state in self.done}
        overdue = value == "overdue"
        if overdue:
            params[self.open_param] = ",".join(self.open_values)

        def test(record: Record) -> bool:
            day = _day(field_value(record, self.field))
            if day is None or day > end.isoformat() or (start is not None and day < start.isoformat()):
                return False
            return not overdue or str(field_value(record, self.done_field) or "").casefold() not in done

        return Condition(self.name, params, test)
