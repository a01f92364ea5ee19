"""search/get/create/update/delete tools for the seven record nouns, made from one table."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, get_args

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, StringConstraints, create_model
from pydantic.fields import FieldInfo

from lava_crm_mcp.crm import RESOURCES, CrmClient, ResourceSpec
from lava_crm_mcp.crm.inputs import MONEY_PATTERN
from lava_crm_mcp.tools._shared import DESTRUCTIVE, READ, WRITE, IdArg, PageArg, QueryArg, ToolArgs, ToolSpec
from lava_crm_mcp.tools.render import Created, Deleted, RecordPage, RecordResult

__all__ = ["NOUNS", "Noun", "record_tools"]

MONEY_ARG: Any = Annotated[str, StringConstraints(pattern=MONEY_PATTERN), Field(description="e.g. 1500.00")]
# Arguments whose meaning a bare schema does not show.
FIELD_NOTES = {
    "account": "Account id.",
    "contact": "Contact id.",
    "opportunity": "Deal id.",
    "contacts": "Contact ids.",
    "pipeline_stage": "Stage id from get_pipeline_board; default: first stage of the default pipeline.",
    "country": "ISO-2, e.g. US.",
    "billing_country": "ISO-2, e.g. US.",
    "currency": "ISO-4217, e.g. USD.",
}
LEAVE_OUT = {"deal": ("stage",)}  # the legacy enum: deals change stage through move_deal_to_stage only


@dataclass(frozen=True)
class Noun:
    """How one CRM resource appears as tools: its names, toolset, compact row and search fields."""

    path: str
    noun: str
    toolset: str
    row: tuple[str, ...]
    matches: str

    @property
    def spec(self) -> ResourceSpec[Any, Any, Any]:
        return next(spec for spec in RESOURCES if spec.path == self.path)

    @property
    def plural(self) -> str:
        return f"{self.noun}s"

    @property
    def article(self) -> str:
        """The noun with its indefinite article ("a contact", "an account")."""
        return f"{'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}"


NOUNS = (
    Noun("contacts", "contact", "contacts",
         ("id", "first_name", "last_name", "primary_email", "mobile_number", "organization"),
         "name, email, phone or organization"),
    Noun("accounts", "account", "accounts", ("id", "name", "industry", "email", "website", "status"),
         "name, email or website"),
    Noun("leads", "lead", "leads", ("id", "title", "first_name", "last_name", "email", "status", "source"),
         "title, name, email or company"),
    Noun("opportunities", "deal", "deals",
         ("id", "name", "amount", "currency", "stage_name", "is_closed", "account"), "name or description"),
    Noun("tasks", "task", "tasks", ("id", "title", "status", "priority", "due_date"), "title or description"),
    Noun("cases", "case", "cases", ("id", "name", "status", "priority", "case_type"), "name or description"),
    Noun("invoices", "invoice", "invoices",
         ("id", "invoice_number", "invoice_title", "status", "amount", "currency", "due_date"),
         "title or invoice number"),
)  # fmt: skip


def _arg(name: str, field: FieldInfo) -> tuple[Any, Any]:
    """A tool argument from a request-body field: same name and rules; money as a plain decimal string."""
    annotation: Any = field.annotation
    # Optional money arrives as `Annotated[Decimal, …] | None`: look one level into the union's members too.
    if annotation is Decimal or any(arg is Decimal or Decimal in get_args(arg) for arg in get_args(annotation)):
        annotation = MONEY_ARG if field.is_required() else MONEY_ARG | None
    elif field.metadata:
        annotation = Annotated[annotation, *field.metadata]
    note = FIELD_NOTES.get(name)
    return annotation, Field(... if field.is_required() else None, description=note)


def _args(name: str, body: type[BaseModel], noun: Noun, *, with_id: bool) -> type[ToolArgs]:
    fields = {key: field for key, field in body.model_fields.items() if key not in LEAVE_OUT.get(noun.noun, ())}
    required = {key for key, field in noun.spec.create.model_fields.items() if field.is_required()}
    ordered = sorted(fields.items(), key=lambda item: item[0] not in required)
    params: dict[str, Any] = {f"{noun.noun}_id": (IdArg, ...)} if with_id else {}
    params |= {key: _arg(key, field) for key, field in ordered}
    return create_model(f"{name}Arguments", __base__=ToolArgs, **params)


def _id_args(name: str, noun: Noun) -> type[ToolArgs]:
    params: dict[str, Any] = {f"{noun.noun}_id": (IdArg, ...)}
    return create_model(f"{name}Arguments", __base__=ToolArgs, **params)


def _row_model(noun: Noun) -> type[BaseModel]:
    fields = noun.spec.model.model_fields
    params: dict[str, Any] = {
        key: (fields[key].annotation if key in fields else str | None, ... if key == "id" else None) for key in noun.row
    }
    return create_model(f"{noun.noun.title()}Row", **params)


async def _rows(crm: CrmClient, noun: Noun, items: list[Any]) -> list[dict[str, Any]]:
    """Compact rows; a deal's row names its board stage (one extra read of the pipelines)."""
    rows = [item.model_dump() for item in items]
    if "stage_name" in noun.row and rows:
        names = {stage.id: stage.name for pipeline in await crm.pipelines.list() for stage in pipeline.stages}
        for row in rows:
            row["stage_name"] = names.get(row.get("pipeline_stage") or "")
    return rows


def _search(noun: Noun) -> ToolSpec:
    name = f"search_{noun.plural}"
    row = _row_model(noun)
    args = create_model(f"{name}Arguments", __base__=ToolArgs, query=(QueryArg, None), page=(PageArg, 1))

    async def handler(crm: CrmClient, a: Any) -> RecordPage[Any]:
        found = await crm.records(noun.path).list(page=a.page, search=a.query)
        query = f"query={a.query!r}, " if a.query else ""
        nxt = f"{name}({query}page={a.page + 1})" if found.has_more else None
        rows = [row.model_validate(data) for data in await _rows(crm, noun, found.items)]
        return RecordPage[row](kind=noun.plural, page=found.page, has_more=found.has_more, total=found.total,
                               next_call=nxt, items=rows)  # fmt: skip

    return ToolSpec(
        name, f"Search {noun.plural}", f"Search {noun.plural} by {noun.matches}. Compact rows, 20 per page.",
        args, RecordPage[row], handler, READ, noun.toolset,
    )  # fmt: skip


def _get(noun: Noun) -> ToolSpec:
    name = f"get_{noun.noun}"
    model = noun.spec.model

    async def handler(crm: CrmClient, a: Any) -> RecordResult[Any]:
        record = await crm.records(noun.path).get(getattr(a, f"{noun.noun}_id"))
        return RecordResult[model](kind=noun.noun, record=record)

    return ToolSpec(
        name, f"Get {noun.noun}", f"Get one {noun.noun}'s full record by id.",
        _id_args(name, noun), RecordResult[model], handler, READ, noun.toolset,
        hints={"not_found": f"Find ids with search_{noun.plural}."},
    )  # fmt: skip


def _create(noun: Noun) -> ToolSpec:
    name = f"create_{noun.noun}"
    model = noun.spec.model

    async def handler(crm: CrmClient, a: Any) -> Created[Any]:
        made = await crm.records(noun.path).create(a.model_dump(exclude_none=True))
        return Created[model](kind=noun.noun, record=made.record, message=made.message,
                              find_with=f"search_{noun.plural}")  # fmt: skip

    return ToolSpec(
        name, f"Create {noun.noun}", f"Create {noun.article}.",
        _args(name, noun.spec.create, noun, with_id=False), Created[model], handler, WRITE, noun.toolset,
    )  # fmt: skip


def _update(noun: Noun) -> ToolSpec:
    name = f"update_{noun.noun}"
    model = noun.spec.model
    id_field = f"{noun.noun}_id"

    async def handler(crm: CrmClient, a: Any) -> RecordResult[Any]:
        changes = a.model_dump(exclude={id_field}, exclude_none=True)
        if not changes:
            raise ToolError(f"Nothing to update: pass {id_field} and at least one field to change.")
        record = await crm.records(noun.path).update(getattr(a, id_field), changes)
        return RecordResult[model](kind=noun.noun, record=record)

    extra = " Stage is not a field: use move_deal_to_stage." if noun.noun == "deal" else ""
    return ToolSpec(
        name, f"Update {noun.noun}", f"Update {noun.article}; only the fields given change.{extra}",
        _args(name, noun.spec.update, noun, with_id=True), RecordResult[model], handler, WRITE, noun.toolset,
        hints={"not_found": f"Find ids with search_{noun.plural}."},
    )  # fmt: skip


def _delete(noun: Noun) -> ToolSpec:
    name = f"delete_{noun.noun}"

    async def handler(crm: CrmClient, a: Any) -> Deleted:
        record_id = getattr(a, f"{noun.noun}_id")
        await crm.records(noun.path).delete(record_id)
        return Deleted(kind=noun.noun, id=record_id)

    return ToolSpec(
        name, f"Delete {noun.noun}", f"Delete {noun.article} permanently.",
        _id_args(name, noun), Deleted, handler, DESTRUCTIVE, noun.toolset,
        hints={"not_found": f"Find ids with search_{noun.plural}."},
    )  # fmt: skip


def record_tools(noun: Noun) -> tuple[ToolSpec, ...]:
    return (_search(noun), _get(noun), _create(noun), _update(noun), _delete(noun))
