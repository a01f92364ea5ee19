"""One declarative description of the seven CRM record resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from lava_crm_mcp.crm import inputs, models
from lava_crm_mcp.crm.inputs import Body
from lava_crm_mcp.crm.models import Record

__all__ = ["ACCOUNTS", "CASES", "CONTACTS", "INVOICES", "LEADS", "OPPORTUNITIES", "RESOURCES", "TASKS", "ResourceSpec"]

R = TypeVar("R", bound=Record)
C = TypeVar("C", bound=Body)
U = TypeVar("U", bound=Body)

Path = tuple[str, ...]


@dataclass(frozen=True)
class ResourceSpec(Generic[R, C, U]):
    """A record resource: its URL segment, models, and where the django-crm dialect puts things."""

    path: str
    noun: str
    model: type[R]
    create: type[C]
    update: type[U]
    detail_keys: tuple[str, ...] = ()
    list_paths: tuple[Path, ...] = ()
    count_paths: tuple[Path, ...] = ()


CONTACTS = ResourceSpec(
    "contacts", "contact", models.Contact, inputs.ContactCreate, inputs.ContactUpdate,
    detail_keys=("contact_obj",), list_paths=(("contact_obj_list",),), count_paths=(("contacts_count",),),
)  # fmt: skip
ACCOUNTS = ResourceSpec(
    "accounts", "account", models.Account, inputs.AccountCreate, inputs.AccountUpdate,
    detail_keys=("account_obj",),
    list_paths=(("active_accounts", "open_accounts"), ("closed_accounts", "close_accounts")),
)  # fmt: skip
LEADS = ResourceSpec(
    "leads", "lead", models.Lead, inputs.LeadCreate, inputs.LeadUpdate,
    detail_keys=("lead_obj",),
    list_paths=(("open_leads", "open_leads"), ("close_leads", "close_leads")),
    count_paths=(("open_leads", "leads_count"), ("close_leads", "leads_count")),
)  # fmt: skip
OPPORTUNITIES = ResourceSpec(
    "opportunities", "deal", models.Opportunity, inputs.OpportunityCreate, inputs.OpportunityUpdate,
    detail_keys=("opportunity_obj",), list_paths=(("opportunities",),), count_paths=(("opportunities_count",),),
)  # fmt: skip
TASKS = ResourceSpec(
    "tasks", "task", models.Task, inputs.TaskCreate, inputs.TaskUpdate,
    detail_keys=("task_obj",), list_paths=(("tasks",),), count_paths=(("tasks_count",),),
)  # fmt: skip
CASES = ResourceSpec(
    "cases", "case", models.Case, inputs.CaseCreate, inputs.CaseUpdate,
    detail_keys=("cases_obj", "case_obj"), list_paths=(("cases",),), count_paths=(("cases_count",),),
)  # fmt: skip
INVOICES = ResourceSpec(
    "invoices", "invoice", models.Invoice, inputs.InvoiceCreate, inputs.InvoiceUpdate,
    detail_keys=("invoice", "invoice_obj"), list_paths=(("invoices",),), count_paths=(("invoices_count",),),
)  # fmt: skip

RESOURCES = (CONTACTS, ACCOUNTS, LEADS, OPPORTUNITIES, TASKS, CASES, INVOICES)
