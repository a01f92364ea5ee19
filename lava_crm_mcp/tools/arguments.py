"""Tool arguments built from the noun table: search arguments (query, filters, sort, limit, cursor), and the
flat body arguments of create/update, with the same names and rules as the CRM's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, Field, StringConstraints, create_model
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo

from lava_crm_mcp.crm import ResourceSpec
from lava_crm_mcp.crm.filters import literal
from lava_crm_mcp.crm.inputs import MONEY_PATTERN, Id
from lava_crm_mcp.tools._shared import CLEARABLE, ConfirmArg, CursorArg, IdArg, LimitArg, Lookup, QueryArg, ToolArgs

__all__ = ["BodyArgs", "IdArgs", "SearchArgs", "body_args", "edits", "id_args", "search_args", "unclearable"]

MONEY_ARG: Any = Annotated[str, StringConstraints(pattern=MONEY_PATTERN), Field(description="e.g. 1500.00")]
FilterText = Annotated[str, StringConstraints(max_length=255)]
# Arguments whose meaning a bare schema does not show.
FIELD_NOTES = {
    "account": "Account id.",
    "contact": "Contact id.",
    "opportunity": "Deal id.",
    "lead": "Lead id.",
    "case": "Case id.",
    "contacts": "Contact ids.",
    "country": "ISO-2, e.g. US.",
    "billing_country": "ISO-2, e.g. US.",
    "currency": "ISO-4217, e.g. USD.",
    "lead_source": "As the CRM spells it, e.g. CALL, WEBSITE.",
}
LEAVE_OUT = {"deal": ("stage",)}  # the legacy enum: deals change stage through move_deal_to_stage only
StageArg = Lookup | None


def _tool_type(annotation: Any) -> Any:
    """An argument type from a body or filter type: money as a decimal string, ids bounded (checked later)."""
    if annotation is Decimal:
        return MONEY_ARG
    if annotation == Id:
        return IdArg
    if annotation is str:
        return FilterText
    origin, members = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        return Union[tuple(_tool_type(member) for member in members)]  # noqa: UP007
    if origin is list:
        return list[_tool_type(members[0])]
    return annotation


class SearchArgs(ToolArgs):
    """A search's arguments (fields per noun): query, the noun's filters, sort, limit and cursor."""

    filter_names: ClassVar[tuple[str, ...]] = ()

    def filters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.filter_names if getattr(self, name) is not None}

    def get(self, name: str) -> Any:
        return getattr(self, name, None)


def search_args(name: str, spec: ResourceSpec[Any, Any, Any]) -> type[SearchArgs]:
    fields: dict[str, Any] = {"query": (QueryArg, None)}
    for item in spec.filters:
        default = getattr(item, "default", None)  # a filter applied unless the caller says otherwise (tasks' kind)
        fields[item.name] = (_tool_type(item.annotation) | None, Field(default, description=item.description or None))
    if spec.sorts:
        order = literal([sort.value for sort in spec.sorts])
        fields["sort"] = (order | None, None)  # the instructions: newest first unless sorted
    fields |= {"limit": (LimitArg, 20), "cursor": (CursorArg, None)}
    model = create_model(f"{name}Arguments", __base__=SearchArgs, **fields)
    model.filter_names = tuple(item.name for item in spec.filters)
    return model


class IdArgs(ToolArgs):
    """Arguments of a tool that takes one record id (its field is named per noun)."""

    def record_id(self) -> str:
        return str(next(iter(self.model_dump().values())))

    def confirmation(self) -> str | None:
        return getattr(self, "confirm", None)


def id_args(
    name: str, spec: ResourceSpec[Any, Any, Any], *, confirm: bool = False, extra: Mapping[str, Any] | None = None
) -> type[IdArgs]:
    """The record's id first (`IdArgs.record_id` reads it), then `extra` arguments, then the confirm token."""
    params: dict[str, Any] = {f"{spec.noun}_id": (IdArg, ...), **(extra or {})}
    if confirm:
        params["confirm"] = (ConfirmArg, None)
    return create_model(f"{name}Arguments", __base__=IdArgs, **params)


def _arg(name: str, field: FieldInfo, clearable: bool = False) -> tuple[Any, Any]:
    """A tool argument from a request-body field: same name and rules; money as a plain decimal string. An update's
    `clearable` argument admits null in its schema too (null clears the field)."""
    annotation: Any = field.annotation
    if annotation is Decimal or any(arg is Decimal or Decimal in get_args(arg) for arg in get_args(annotation)):
        annotation = MONEY_ARG if field.is_required() else MONEY_ARG | None
    elif field.metadata:
        annotation = Annotated[annotation, *field.metadata]
    else:
        annotation = _tool_type(annotation)
    extra: JsonDict | None = {CLEARABLE: True} if clearable else None
    return annotation, Field(
        ... if field.is_required() else None, description=FIELD_NOTES.get(name), json_schema_extra=extra
    )


KEPT = frozenset({"status", "priority", "currency", "do_not_call"})
"""Fields the CRM always holds a value in: an update can change them, never clear them (nor a required field)."""


def unclearable(spec: ResourceSpec[Any, Any, Any]) -> frozenset[str]:
    required = {name for name, info in spec.create.model_fields.items() if info.is_required()}
    return frozenset(required | KEPT)


class BodyArgs(ToolArgs):
    """A create's or update's arguments: the record's fields, plus arguments that are not fields (`extras`)."""

    extras: ClassVar[tuple[str, ...]] = ()

    def body(self, *exclude: str) -> dict[str, Any]:
        """The fields to send, without the extras (a create leaves out what is null)."""
        return self.model_dump(exclude={*self.extras, *exclude}, exclude_none=True)

    def changes(self, *exclude: str) -> dict[str, Any]:
        """An update's fields as given: a field given as null is sent as null (it clears it)."""
        return self.model_dump(exclude={*self.extras, *exclude}, exclude_unset=True)

    def get(self, name: str) -> Any:
        return getattr(self, name, None)


IdList = Annotated[list[IdArg] | None, Field(max_length=100)]


def edits(field: str) -> tuple[str, str]:
    """The arguments that add to and remove from a list of links: contacts -> add_contact_ids, remove_contact_ids."""
    singular = field.removesuffix("s").removesuffix("_id")
    return f"add_{singular}_ids", f"remove_{singular}_ids"


def _is_list(info: FieldInfo) -> bool:
    return any(get_origin(arg) is list for arg in (info.annotation, *get_args(info.annotation)))


def _extras(spec: ResourceSpec[Any, Any, Any], update: bool) -> dict[str, Any]:
    """Arguments that are not fields: list edits (update), the board stage (create a deal), allow_duplicate."""
    extra: dict[str, Any] = {}
    if update:
        lists = [name for name, info in spec.update.model_fields.items() if name in spec.relations and _is_list(info)]
        for name in [*lists, *(member.arg for member in spec.members)]:
            add, remove = edits(name)
            extra |= {add: (IdList, None), remove: (IdList, None)}
        return extra
    if spec.on_board:
        extra["stage"] = (StageArg, Field(None, description="Stage id or name; default: first stage."))
        extra["pipeline"] = (StageArg, Field(None, description="Pipeline id or name; default pipeline."))
    if spec.natural_key and not spec.crm_unique:
        described = Field(False, description=f"Create even if one with this {spec.natural_key} exists.")
        extra["allow_duplicate"] = (bool, described)
    elif spec.twins:
        extra["allow_duplicate"] = (bool, Field(False, description="Create even if an identical open one exists."))
    return extra


def body_args(name: str, body: type[BaseModel], spec: ResourceSpec[Any, Any, Any], with_id: bool) -> type[BodyArgs]:
    extra = _extras(spec, update=with_id)
    edited = {name for name in spec.relations if any(key.endswith(f"{name.removesuffix('s')}_ids") for key in extra)}
    skip = {*LEAVE_OUT.get(spec.noun, ()), *edited, *(("pipeline_stage",) if spec.on_board else ())}
    fields = {key: info for key, info in body.model_fields.items() if key not in skip}
    required = {key for key, info in spec.create.model_fields.items() if info.is_required()}
    params: dict[str, Any] = {f"{spec.noun}_id": (IdArg, ...)} if with_id else {}
    kept = unclearable(spec)
    ordered = sorted(fields.items(), key=lambda item: item[0] not in required)
    params |= {key: _arg(key, info, clearable=with_id and key not in kept) for key, info in ordered}
    model = create_model(f"{name}Arguments", __base__=BodyArgs, **(params | extra))
    model.extras = tuple(extra)
    return model
