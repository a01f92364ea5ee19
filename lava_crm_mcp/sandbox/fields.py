"""Field types of the write models, and DRF-style messages for their validation errors."""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from .catalog import COUNTRIES, CURRENCIES

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CENT = Decimal("0.01")
MAX_DIGITS = 12


def _surrogate(text: str) -> str | None:
    """The first lone surrogate of `text` as DRF names it (`U+D800`); JSON can carry them, UTF-8 cannot."""
    found = next((char for char in text if "\ud800" <= char <= "\udfff"), None)
    return None if found is None else f"U+{ord(found):X}"


def _unicode(value: str) -> str:
    """`value` if it holds no lone surrogate (DRF's ProhibitSurrogateCharactersValidator)."""
    code = _surrogate(value)
    if code is not None:
        raise PydanticCustomError("surrogate", "Surrogate characters are not allowed: {code}.", {"code": code})
    return value


def choice_error(value: object) -> PydanticCustomError:
    return PydanticCustomError("choice", '"{value}" is not a valid choice.', {"value": _show(value)})


def _email(value: str) -> str:
    if value and not _EMAIL.match(value):
        raise PydanticCustomError("email", "Enter a valid email address.")
    return value


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("decimal", "A valid number is required.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PydanticCustomError("decimal", "A valid number is required.") from None
    if not number.is_finite():
        raise PydanticCustomError("decimal", "A valid number is required.")
    return number


def _money(value: object) -> str:
    number = _decimal(value)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise PydanticCustomError("decimal", "Ensure that there are no more than 2 decimal places.")
    if number and number.adjusted() >= MAX_DIGITS - 2:  # before quantize(), which cannot hold huge numbers
        raise PydanticCustomError(
            "decimal", "Ensure that there are no more than {digits} digits in total.", {"digits": MAX_DIGITS}
        )
    return str(number.quantize(_CENT))


def _day(value: object) -> str:
    message = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
    if not isinstance(value, str) or not _DAY.match(value):
        raise PydanticCustomError("date", message)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date", message) from None
    return value


def _country(value: object) -> str:
    if not isinstance(value, str) or _unicode(value) not in COUNTRIES:
        raise choice_error(value)
    return value


def _currency(value: object) -> str:
    if not isinstance(value, str) or _unicode(value) not in CURRENCIES:
        raise choice_error(value)
    return value


def _ref(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError(
            "incorrect_type", "Incorrect type. Expected pk value, received {kind}.", {"kind": type(value).__name__}
        )
    return _unicode(value).strip()


def _blank_is_null(value: object) -> object:
    """DRF's related fields read "" as null (refs are compared stripped here, so "  " too)."""
    return None if isinstance(value, str) and not value.strip() else value


Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), AfterValidator(_email)]
Money = Annotated[
    str,
    PlainValidator(_money),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1500.00"]}),
]
Day = Annotated[str, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
Country = Annotated[str, PlainValidator(_country), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"})]
Currency = Annotated[str, PlainValidator(_currency), WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"})]
Ref = Annotated[str, PlainValidator(_ref), WithJsonSchema({"type": "string", "format": "uuid"})]
"""An id, stripped (as a list item a blank one stays, and names no record)."""
RequiredRef = Annotated[Ref, BeforeValidator(_blank_is_null)]
"""A reference that must be given: blank is null, and null is refused ("This field may not be null.")."""
NullableRef = Annotated[Ref | None, BeforeValidator(_blank_is_null)]
"""A reference that may be unset: blank is stored as null."""
Percent = Annotated[int, Field(ge=0, le=100)]

_MESSAGES = {
    "missing": "This field is required.",
    "string_type": "Not a valid string.",
    "string_too_short": "This field may not be blank.",
    "string_too_long": "Ensure this field has no more than {max_length} characters.",
    "bool_type": "Must be a valid boolean.",
    "bool_parsing": "Must be a valid boolean.",
    "int_type": "A valid integer is required.",
    "int_parsing": "A valid integer is required.",
    "int_from_float": "A valid integer is required.",
    "less_than_equal": "Ensure this value is less than or equal to {le}.",
    "greater_than_equal": "Ensure this value is greater than or equal to {ge}.",
    "list_type": 'Expected a list of items but got type "{kind}".',
    "string_unicode": "Surrogate characters are not allowed: {code}.",
    "literal_error": '"{value}" is not a valid choice.',
}


def _show(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _message(error: ErrorDetails) -> str:
    given: Any = error.get("input")
    if error["type"] != "missing" and given is None:
        return "This field may not be null."
    template = _MESSAGES.get(error["type"])
    if template is None:
        return error["msg"]
    context: dict[str, Any] = {**error.get("ctx", {}), "value": _show(given), "kind": type(given).__name__}
    if error["type"] == "string_unicode":
        context["code"] = _surrogate(str(given))
    return template.format(**context)


def drf_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Group pydantic errors by top-level field, worded as Django REST framework words them."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "non_field_errors"
        message = _message(error)
        if message not in errors.setdefault(field, []):
            errors[field].append(message)
    return errors
