"""The noun table: each CRM record resource declared once — models, search fields, filters, relations, rows — driving
the adapter's queries, the tools' arguments and the renderers. Filter kinds: `filters.py`, `placement.py`, `kinds.py`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from lava_crm_mcp.crm import inputs, kinds, models
from lava_crm_mcp.crm.activity import NoActivitySince
from lava_crm_mcp.crm.filters import AtLeast, AtMost, Equals, Matches
from lava_crm_mcp.crm.history import CompletedWindow, TaskKind
from lava_crm_mcp.crm.kinds import choice, id_filter
from lava_crm_mcp.crm.noun import Column, Members, Related, ResourceSpec, Sort
from lava_crm_mcp.crm.placement import DealStatus, InStage, OnPipeline

__all__ = [
    "ACCOUNTS",
    "CASES",
    "CONTACTS",
    "INVOICES",
    "LEADS",
    "OPPORTUNITIES",
    "RESOURCES",
    "TASKS",
    "Column",
    "Related",
    "ResourceSpec",
    "Sort",
    "resource",
]


CONTACTS = ResourceSpec(
    "contacts",
    "contact",
    "contacts",
    models.Contact,
    inputs.ContactCreate,
    inputs.ContactUpdate,
    label=("first_name", "last_name"),
    natural_key="primary_email",
    crm_unique=True,
    search=("first_name", "last_name", "primary_email", "mobile_number", "organization"),
    matches="name, email, phone or organization",
    phones=("mobile_number",),
    columns=(
        Column("id", ("id",)),
        Column("name", ("first_name", "last_name")),
        Column("email", ("primary_email",)),
        Column("phone", ("mobile_number",)),
        Column("title", ("title",)),
        Column("account", ("account",)),
    ),
    filters=(
        id_filter("account_id", "account", "account"),
        Matches("email", "primary_email", "email", "Email or part of one."),
    ),
    relations={"account": "accounts"},
    related=(
        Related("deals", "opportunities", "contact_id"),
        Related("open tasks", "tasks", "contact_id", {"status": "open"}),
        Related("activities", "tasks", "contact_id", {"kind": "activity"}, sort="due_date_desc"),
        Related("timeline", "tasks", "contact_id", {"kind": "timeline"}, timeline=True),
    ),
    write_aliases={"primary_email": "email", "mobile_number": "phone"},
    detail_keys=("contact_obj",),
    list_paths=(("contact_obj_list",),),
    count_paths=(("contacts_count",),),
)
ACCOUNTS = ResourceSpec(
    "accounts",
    "account",
    "accounts",
    models.Account,
    inputs.AccountCreate,
    inputs.AccountUpdate,
    label=("name",),
    natural_key="name",
    crm_unique=True,
    members=(Members("contact_ids", "contacts", "account"),),
    search=("name", "email", "website"),
    matches="name, email or website",
    columns=(
        Column("id", ("id",)),
        Column("name", ("name",)),
        Column("industry", ("industry",)),
        Column("status", ("status",)),
        Column("updated", ("updated_at",)),
        Column("last activity", ("last_activity",)),
    ),
    filters=(
        choice("industry", inputs.Industry, ""),
        choice("status", Literal["open", "close"], ""),
        kinds.UPDATED_BEFORE,
        NoActivitySince("no_activity_since", kinds.STALE, "accounts"),
    ),
    sorts=kinds.STALENESS,
    related=(
        Related("contacts", "contacts", "account_id"),
        Related("open deals", "opportunities", "account_id", {"status": "open"}),
        Related("open tasks", "tasks", "account_id", {"status": "open"}),
        Related("open cases", "cases", "account_id", {"status": "open"}),
        Related("activities", "tasks", "account_id", {"kind": "activity"}, sort="due_date_desc"),
        Related("timeline", "tasks", "account_id", {"kind": "timeline"}, timeline=True),
    ),
    detail_keys=("account_obj",),
    list_paths=(("active_accounts", "open_accounts"), ("closed_accounts", "close_accounts")),
)
LEADS = ResourceSpec(
    "leads",
    "lead",
    "leads",
    models.Lead,
    inputs.LeadCreate,
    inputs.LeadUpdate,
    label=("title",),
    natural_key="email",
    search=("title", "first_name", "last_name", "email", "account_name"),
    matches="title, name, email or company",
    columns=(
        Column("id", ("id",)),
        Column("title", ("title",)),
        Column("name", ("first_name", "last_name")),
        Column("company", ("account_name",)),
        Column("status", ("status",)),
        Column("source", ("source",)),
    ),
    filters=(
        choice("status", inputs.LeadStatus, ""),
        choice("source", inputs.LeadSource, ""),
    ),
    related=(
        Related("open tasks", "tasks", "lead_id", {"status": "open"}),
        Related("activities", "tasks", "lead_id", {"kind": "activity"}, sort="due_date_desc"),
    ),
    detail_keys=("lead_obj",),
    list_paths=(("open_leads", "open_leads"), ("close_leads", "close_leads")),
    count_paths=(("open_leads", "leads_count"), ("close_leads", "leads_count")),
)
OPPORTUNITIES = ResourceSpec(
    "opportunities",
    "deal",
    "deals",
    models.Opportunity,
    inputs.OpportunityCreate,
    inputs.OpportunityUpdate,
    label=("name",),
    search=("name", "description"),
    matches="name or description",
    columns=(
        Column("id", ("id",)),
        Column("name", ("name",)),
        Column("amount", ("amount", "currency")),
        Column("prob", ("probability",)),
        Column("stage", ("pipeline_stage",)),
        Column("status", ("status",)),
        Column("account", ("account",)),
        Column("close", ("expected_close", "closed_on")),
        Column("updated", ("updated_at",)),
        Column("last activity", ("last_activity",)),
    ),
    filters=(
        id_filter("account_id", "account", "account"),
        id_filter("contact_id", "contacts", "contacts"),
        OnPipeline("pipeline", "Pipeline id or name."),
        InStage("stage", "Stage id or name (in `pipeline` if given)."),
        DealStatus("status", ""),
        AtLeast("amount_min", "amount", "amount__gte", Decimal, ""),
        AtMost("amount_max", "amount", "amount__lte", Decimal, ""),
        Equals("currency", "currency", "currency", "ISO code, e.g. EUR.", annotation=kinds.ANY_CASE_CURRENCY),
        *kinds.CLOSE_DATES,
        kinds.UPDATED_BEFORE,
        NoActivitySince("no_activity_since", kinds.STALE, "opportunities"),
    ),
    relations={"account": "accounts", "contacts": "contacts"},
    related=(
        Related("open tasks", "tasks", "deal_id", {"status": "open"}),
        Related("activities", "tasks", "deal_id", {"kind": "activity"}, sort="due_date_desc"),
        Related("timeline", "tasks", "deal_id", {"kind": "timeline"}, timeline=True),
    ),
    sorts=(
        Sort("amount_desc", "amount", descending=True),
        Sort("amount_asc", "amount"),
        Sort("close_date_asc", "closed_on"),
        Sort("close_date_desc", "closed_on", descending=True),
        *kinds.STALENESS,
    ),
    on_board=True,
    detail_keys=("opportunity_obj",),
    list_paths=(("opportunities",),),
    count_paths=(("opportunities_count",),),
)
TASKS = ResourceSpec(
    "tasks",
    "task",
    "tasks",
    models.Task,
    inputs.TaskCreate,
    inputs.TaskUpdate,
    label=("title",),
    twins=("title", "due_date", "opportunity", "case", "lead", "contacts", "account"),
    search=("title", "description"),
    matches="title or description",
    columns=(
        Column("id", ("id",)),
        Column("title", ("title",)),
        Column("status", ("status", "completed_on")),
        Column("priority", ("priority",)),
        Column("due", ("due_date",)),
        Column("parent", ("opportunity", "case", "lead", "contacts", "account"), first_of=True),
    ),
    filters=(
        choice("status", inputs.TaskStatus, "open: New or In Progress.", groups=kinds.OPEN_TASK),
        choice("priority", inputs.TaskPriority, ""),
        kinds.DUE_WINDOW,
        AtLeast("due_from", "due_date", "due_date__gte", dt.date, ""),
        AtMost("due_to", "due_date", "due_date__lte", dt.date, ""),
        id_filter("account_id", "account", "account"),
        id_filter("deal_id", "opportunity", "opportunity"),
        id_filter("contact_id", "contacts", "contacts"),
        id_filter("lead_id", "lead", "lead"),
        id_filter("case_id", "case", "case"),
        CompletedWindow("completed_from", "Completed on or after.", lower=True),
        CompletedWindow("completed_to", "Completed on or before.", lower=False),
        TaskKind("kind", "task: a rep's (default); activity: logged (or call, email, meeting, note); timeline."),
    ),
    relations={
        "account": "accounts",
        "contacts": "contacts",
        "opportunity": "opportunities",
        "lead": "leads",
        "case": "cases",
    },
    sorts=(Sort("due_date_asc", "due_date"), Sort("due_date_desc", "due_date", descending=True)),
    completion=True,
    detail_keys=("task_obj",),
    list_paths=(("tasks",),),
    count_paths=(("tasks_count",),),
)
CASES = ResourceSpec(
    "cases",
    "case",
    "cases",
    models.Case,
    inputs.CaseCreate,
    inputs.CaseUpdate,
    label=("name",),
    search=("name", "description"),
    matches="name or description",
    columns=(
        Column("id", ("id",)),
        Column("name", ("name",)),
        Column("status", ("status",)),
        Column("priority", ("priority",)),
        Column("account", ("account",)),
        Column("updated", ("updated_at",)),
        Column("last activity", ("last_activity",)),
    ),
    filters=(
        choice("status", inputs.CaseStatus, "open: New, Assigned or Pending.", groups=kinds.OPEN_CASE),
        choice("priority", inputs.CasePriority, ""),
        id_filter("account_id", "account", "account"),
        id_filter("contact_id", "contacts", "contacts"),
        kinds.UPDATED_BEFORE,
        NoActivitySince("no_activity_since", kinds.STALE, "cases"),
    ),
    sorts=kinds.STALENESS,
    relations={"account": "accounts", "contacts": "contacts"},
    related=(
        Related("open tasks", "tasks", "case_id", {"status": "open"}),
        Related("activities", "tasks", "case_id", {"kind": "activity"}, sort="due_date_desc"),
    ),
    detail_keys=("cases_obj", "case_obj"),
    list_paths=(("cases",),),
    count_paths=(("cases_count",),),
)
INVOICES = ResourceSpec(
    "invoices",
    "invoice",
    "invoices",
    models.Invoice,
    inputs.InvoiceCreate,
    inputs.InvoiceUpdate,
    label=("invoice_number", "invoice_title"),
    search=("invoice_title", "invoice_number"),
    matches="title or invoice number",
    columns=(
        Column("id", ("id",)),
        Column("number", ("invoice_number",)),
        Column("title", ("invoice_title",)),
        Column("status", ("status",)),
        Column("amount", ("amount", "currency")),
        Column("due", ("due_date",)),
        Column("account", ("account",)),
    ),
    filters=(
        choice("status", inputs.InvoiceStatus, ""),
        id_filter("account_id", "account", "account"),
        id_filter("contact_id", "contact", "contact"),
        kinds.UNPAID,
        AtLeast("due_from", "due_date", "due_date_gte", dt.date, ""),
        AtMost("due_to", "due_date", "due_date_lte", dt.date, ""),
    ),
    relations={"account": "accounts", "contact": "contacts"},
    sorts=(Sort("due_date_asc", "due_date"), Sort("due_date_desc", "due_date", descending=True)),
    write_aliases={"account": "account_id", "contact": "contact_id", "amount": "total_amount"},
    detail_keys=("invoice", "invoice_obj"),
    list_paths=(("invoices",),),
    count_paths=(("invoices_count",),),
)

RESOURCES: tuple[ResourceSpec[Any, Any, Any], ...] = (CONTACTS, ACCOUNTS, LEADS, OPPORTUNITIES, TASKS, CASES, INVOICES)
BY_PATH: dict[str, ResourceSpec[Any, Any, Any]] = {spec.path: spec for spec in RESOURCES}


def resource(path: str) -> ResourceSpec[Any, Any, Any]:
    return BY_PATH[path]
