"""The one declarative description of the seven CRM resources that the generic code is driven by."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from . import models


@dataclass(frozen=True)
class Resource:
    """One CRM noun: its path segment, models, search fields, references and uniqueness rule."""

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

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, info in self.model.model_fields.items() if info.is_required())

    def unique_message(self) -> str:
        label = (self.unique or "").replace("_", " ")
        return f"{self.noun.lower()} with this {label} already exists."


RESOURCES = (
    Resource(
        "contacts", "Contact", models.Contact, models.ContactRecord,
        search=("first_name", "last_name", "primary_email", "mobile_number", "organization"),
        refs={"account": "accounts"}, unique="primary_email",
    ),
    Resource(
        "accounts", "Account", models.Account, models.AccountRecord,
        search=("name", "email", "website"), unique="name",
    ),
    Resource(
        "leads", "Lead", models.Lead, models.LeadRecord,
        search=("title", "first_name", "last_name", "email", "account_name"),
    ),
    Resource(
        "opportunities", "Opportunity", models.Opportunity, models.OpportunityRecord,
        search=("name", "description"), refs={"account": "accounts", "contacts": "contacts"},
        create_only=("pipeline_stage",), on_board=True,
    ),
    Resource(
        "tasks", "Task", models.Task, models.TaskRecord,
        search=("title", "description"),
        refs={"account": "accounts", "contacts": "contacts", "opportunity": "opportunities"},
    ),
    Resource(
        "cases", "Case", models.Case, models.CaseRecord,
        search=("name", "description"), refs={"account": "accounts", "contacts": "contacts"},
    ),
    Resource(
        "invoices", "Invoice", models.Invoice, models.InvoiceRecord,
        search=("invoice_title", "invoice_number"), refs={"account": "accounts", "contact": "contacts"},
        numbered="invoice_number",
    ),
)  # fmt: skip

BY_NAME: Mapping[str, Resource] = {resource.name: resource for resource in RESOURCES}


def referrers(target: str) -> list[tuple[Resource, str]]:
    """Every (resource, field) whose references name records of `target`."""
    return [(res, name) for res in RESOURCES for name, kind in res.refs.items() if kind == target]
