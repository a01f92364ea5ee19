"""Write-body validation: the pydantic model first, then the rules that need the database."""

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import Invalid
from .fields import drf_errors
from .records import Record, Records
from .resources import Resource

Errors = dict[str, list[str]]
M = TypeVar("M", bound=BaseModel)
REQUIRED = "This field is required."


def parse(model: type[M], body: Mapping[str, object]) -> M:
    """Validate a body against a model, raising DRF-style field errors."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise Invalid(drf_errors(exc)) from None


def fields(res: Resource, body: Mapping[str, object], current: Record | None, *, partial: bool) -> Record:
    """The full, normalised field values of a create (no `current`), a PUT or a PATCH."""
    errors: Errors = {}
    merged: dict[str, object] = dict(body)
    if current is not None:
        writable = {name: value for name, value in body.items() if name not in res.create_only}
        if not partial:
            errors = {name: [REQUIRED] for name in res.required if name not in body}
        merged = {**{name: current.get(name) for name in res.model.model_fields}, **writable}
    try:
        data: Record = res.model.model_validate(merged).model_dump(mode="json")
    except ValidationError as exc:
        raise Invalid({**drf_errors(exc), **errors}) from None
    if errors:
        raise Invalid(errors)
    for name, value in data.items():
        if isinstance(value, list):
            data[name] = list(dict.fromkeys(map(str, value)))  # pyright: ignore[reportUnknownArgumentType]
    return data


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    return [value] if isinstance(value, str) and value else []


def rules(records: Records, res: Resource, org: str, record: Record, changed: set[str]) -> Errors:
    """Reference and uniqueness errors of a record about to be written (references checked if `changed`)."""
    errors: Errors = {}
    for name, kind in res.refs.items():
        missing = [
            ident for ident in _ids(record.get(name)) if name in changed and not records.exists(kind, org, ident)
        ]
        if missing:
            errors[name] = [f'Invalid pk "{ident}" - object does not exist.' for ident in missing]
    if res.unique and res.unique in changed and records.taken(res, org, record):
        errors[res.unique] = [res.unique_message()]
    return errors
