"""The one declarative description of the seven CRM resources that the generic code is driven by."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from . import models
from .filters import (
    BOOLEAN,
    CREATED,
    DAY,
    NUMBER,
    TEXT,
    UPDATED,
    UPDATED_BEFORE,
    Param,
    Sort,
    between,
    by,
    contains,
    exact,
    has,
    iexact,
    one_of,
    placed,
    searching,
    starts,
)


@dataclass(frozen=True)
class Resource:
    """One CRM noun: its path segment, models, search fields, references, uniqueness rule and list filters."""

    name: str
    noun: str
    model: type[BaseModel]
    record: type[BaseModel]
    search: tuple[str, ...]
    refs: Mapping[str, str] = field(default_factory=dict[str, str])
    """Reference field -> the resource it names (a list field holds many ids)."""
    unique: str | None = None
    """A field unique per org, compared case-insensitively."""
    create_only: tuple[str, ...] = ()
    on_board: bool = False
    numbered: str | None = None
    """A read-only field numbered per org (invoice_number)."""
    filters: tuple[Param, ...] = ()
    """List query parameters besides `page` and `search`; all given ones are AND-ed."""
    sorts: tuple[Sort, ...] = ()
    """Keys the `ordering` parameter accepts (each also as `-key`); none: the parameter is ignored."""

    @property
    def params(self) -> tuple[Param, ...]:
        return (searching(self.search), *self.filters)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, info in self.model.model_fields.items() if info.is_required())

    def unique_message(self) -> str:
        label = (self.unique or "").replace("_", " ")
        return f"{self.noun.lower()} with this {label} already exists."


RESOURCES = (
    Resource(
        "contacts",
        "Contact",
        models.Contact,
        models.ContactRecord,
        search=("first_name", "last_name", "primary_email", "mobile_number", "organization"),
        refs={"account": "accounts"},
        unique="primary_email",
        filters=(exact("account"), contains("primary_email", "email")),
    ),
    Resource(
        "accounts",
        "Account",
        models.Account,
        models.AccountRecord,
        search=("name", "email", "website"),
        unique="name",
        filters=(iexact("industry"), exact("status"), UPDATED_BEFORE),
        sorts=(UPDATED, CREATED),
    ),
    Resource(
        "leads",
        "Lead",
        models.Lead,
        models.LeadRecord,
        search=("title", "first_name", "last_name", "email", "account_name"),
        filters=(exact("status"), exact("source")),
    ),
    Resource(
        "opportunities",
        "Opportunity",
        models.Opportunity,
        models.OpportunityRecord,
        search=("name", "description"),
        refs={"account": "accounts", "contacts": "contacts"},
        create_only=("pipeline_stage",),
        on_board=True,
        filters=(
            exact("account"),
            has("contacts"),
            placed("pipeline", "s.pipeline_id", TEXT, "The deal sits on this pipeline's board."),
            placed("pipeline_stage", "p.stage_id", TEXT, "The deal sits in this board stage (a stage id)."),
            placed("open", "(s.stage_type = 'open')", BOOLEAN, "true: the deal's stage is open; false: won or lost."),
            placed("stage_type", "s.stage_type", TEXT, "The type of the deal's stage: open, won or lost."),
            *between("amount", NUMBER),
            iexact("currency"),
            *between("closed_on", DAY),
            UPDATED_BEFORE,
        ),
        sorts=(by("amount", NUMBER), by("closed_on"), UPDATED, CREATED),
    ),
    Resource(
        "tasks",
        "Task",
        models.Task,
        models.TaskRecord,
        search=("title", "description"),
        refs={
            "account": "accounts",
            "contacts": "contacts",
            "opportunity": "opportunities",
            "lead": "leads",
            "case": "cases",
        },
        filters=(
            exact("status"),
            one_of("status"),
            exact("priority"),
            exact("account"),
            exact("opportunity"),
            has("contacts"),
            exact("lead"),
            exact("case"),
            starts("title"),
            *between("due_date", DAY),
        ),
        sorts=(by("due_date"), CREATED),
    ),
    Resource(
        "cases",
        "Case",
        models.Case,
        models.CaseRecord,
        search=("name", "description"),
        refs={"account": "accounts", "contacts": "contacts"},
        filters=(
            exact("status"),
            one_of("status"),
            exact("priority"),
            exact("account"),
            has("contacts"),
            UPDATED_BEFORE,
        ),
        sorts=(UPDATED, CREATED),
    ),
    Resource(
        "invoices",
        "Invoice",
        models.Invoice,
        models.InvoiceRecord,
        search=("invoice_title", "invoice_number"),
        refs={"account": "accounts", "contact": "contacts"},
        numbered="invoice_number",
        filters=(
            exact("status"),
            one_of("status"),
            exact("account"),
            exact("contact"),
            *between("due_date", DAY, joiner="_"),
        ),
        sorts=(by("due_date"), CREATED),
    ),
)

BY_NAME: Mapping[str, Resource] = {resource.name: resource for resource in RESOURCES}


def referrers(target: str) -> list[tuple[Resource, str]]:
    """Every (resource, field) whose references name records of `target`."""
    return [(res, name) for res in RESOURCES for name, kind in res.refs.items() if kind == target]
