"""The noun table: each CRM record resource declared once — models, search fields, filters, relations, rows.

The adapter's queries, the tools' arguments and the renderers are all driven from here; adding a filter or a noun
touches this table. Filter kinds live in `filters.py` (and the deal board ones in `placement.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lava_crm_mcp.crm import inputs, models
from lava_crm_mcp.crm.filters import AtLeast, AtMost, Choice, Equals, Flag, Matches, Window
from lava_crm_mcp.crm.kinds import ACTIVITY_KIND, ANY_CASE_CURRENCY, OPEN_CASE, OPEN_TASK, id_filter, values
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
    search=("first_name", "last_name", "primary_email", "mobile_number", "organization"),
    matches="name, email, phone or organization",
    columns=(
        Column("id", ("id",)),
        Column("name", ("first_name", "last_name")),
        Column("email", ("primary_email",)),
        Column("title", ("title",)),
        Column("account", ("account",)),
    ),
    filters=(
        id_filter("account_id", "account", "account", "Account"),
        Matches("email", "primary_email", "email", "Email or part of one."),
    ),
    relations={"account": "accounts"},
    related=(
        Related("deals", "opportunities", "contact_id"),
        Related("open tasks", "tasks", "contact_id", {"status": "open"}),
        Related("activities", "tasks", "contact_id", {"kind": "activity"}, sort="due_date_desc"),
    ),
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
    members=(Members("contact_ids", "contacts", "account"),),
    search=("name", "email", "website"),
    matches="name, email or website",
    columns=(
        Column("id", ("id",)),
        Column("name", ("name",)),
        Column("industry", ("industry",)),
        Column("status", ("status",)),
    ),
    filters=(
        Choice("industry", "industry", "industry", values(inputs.Industry), ""),
        Choice("status", "status", "status", ("open", "close"), ""),
    ),
    related=(
        Related("contacts", "contacts", "account_id"),
        Related("open deals", "opportunities", "account_id", {"status": "open"}),
        Related("open tasks", "tasks", "account_id", {"status": "open"}),
        Related("open cases", "cases", "account_id", {"status": "open"}),
        Related("activities", "tasks", "account_id", {"kind": "activity"}, sort="due_date_desc"),
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
        Choice("status", "status", "status", values(inputs.LeadStatus), ""),
        Choice("source", "source", "source", values(inputs.LeadSource), ""),
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
        Column("stage", ("pipeline_stage",)),
        Column("status", ("status",)),
        Column("account", ("account",)),
        Column("close", ("closed_on",)),
    ),
    filters=(
        id_filter("account_id", "account", "account", "Account"),
        id_filter("contact_id", "contacts", "contacts", "Contact"),
        OnPipeline("pipeline", "Pipeline id or name."),
        InStage("stage", "Stage id or name (in `pipeline` if given)."),
        DealStatus("status", ""),
        AtLeast("amount_min", "amount", "amount__gte", Decimal, ""),
        AtMost("amount_max", "amount", "amount__lte", Decimal, ""),
        Equals("currency", "currency", "currency", "ISO code, e.g. EUR.", annotation=ANY_CASE_CURRENCY),
        AtLeast("close_date_from", "closed_on", "closed_on__gte", dt.date, ""),
        AtMost("close_date_to", "closed_on", "closed_on__lte", dt.date, ""),
    ),
    relations={"account": "accounts", "contacts": "contacts"},
    related=(
        Related("open tasks", "tasks", "deal_id", {"status": "open"}),
        Related("activities", "tasks", "deal_id", {"kind": "activity"}, sort="due_date_desc"),
    ),
    sorts=(
        Sort("amount_desc", "amount", descending=True),
        Sort("amount_asc", "amount"),
        Sort("close_date_asc", "closed_on"),
        Sort("close_date_desc", "closed_on", descending=True),
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
    search=("title", "description"),
    matches="title or description",
    columns=(
        Column("id", ("id",)),
        Column("title", ("title",)),
        Column("status", ("status",)),
        Column("priority", ("priority",)),
        Column("due", ("due_date",)),
        Column("parent", ("opportunity", "case", "lead", "contacts", "account"), first_of=True),
    ),
    filters=(
        Choice("status", "status", "status", values(inputs.TaskStatus), "open: New or In Progress.", groups=OPEN_TASK),
        Choice("priority", "priority", "priority", values(inputs.TaskPriority), ""),
        Window(
            "due",
            "due_date",
            ("due_date__gte", "due_date__lte"),
            "status",
            ("Completed",),
            "status__in",
            OPEN_TASK["open"],
            "overdue: before today, not completed; this_week: Mon-Sun.",
        ),
        AtLeast("due_from", "due_date", "due_date__gte", dt.date, ""),
        AtMost("due_to", "due_date", "due_date__lte", dt.date, ""),
        id_filter("account_id", "account", "account", "Account"),
        id_filter("deal_id", "opportunity", "opportunity", "Deal"),
        id_filter("contact_id", "contacts", "contacts", "Contact"),
        id_filter("lead_id", "lead", "lead", "Lead"),
        id_filter("case_id", "case", "case", "Case"),
        ACTIVITY_KIND,
    ),
    relations={
        "account": "accounts",
        "contacts": "contacts",
        "opportunity": "opportunities",
        "lead": "leads",
        "case": "cases",
    },
    sorts=(Sort("due_date_asc", "due_date"), Sort("due_date_desc", "due_date", descending=True)),
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
    ),
    filters=(
        Choice(
            "status",
            "status",
            "status",
            values(inputs.CaseStatus),
            "open: New, Assigned or Pending.",
            groups=OPEN_CASE,
        ),
        Choice("priority", "priority", "priority", values(inputs.CasePriority), ""),
        id_filter("account_id", "account", "account", "Account"),
        id_filter("contact_id", "contacts", "contacts", "Contact"),
    ),
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
        Choice("status", "status", "status", values(inputs.InvoiceStatus), ""),
        id_filter("account_id", "account", "account", "Account"),
        id_filter("contact_id", "contact", "contact", "Contact"),
        Flag(
            "unpaid",
            "status",
            "status__in",
            ("Draft", "Sent", "Pending"),
            ("Paid",),
            "true: Draft, Sent or Pending; false: Paid.",
        ),
        AtLeast("due_from", "due_date", "due_date_gte", dt.date, ""),
        AtMost("due_to", "due_date", "due_date_lte", dt.date, ""),
    ),
    relations={"account": "accounts", "contact": "contacts"},
    sorts=(Sort("due_date_asc", "due_date"), Sort("due_date_desc", "due_date", descending=True)),
    write_aliases={"account": "account_id", "contact": "contact_id"},
    detail_keys=("invoice", "invoice_obj"),
    list_paths=(("invoices",),),
    count_paths=(("invoices_count",),),
)

RESOURCES: tuple[ResourceSpec[Any, Any, Any], ...] = (CONTACTS, ACCOUNTS, LEADS, OPPORTUNITIES, TASKS, CASES, INVOICES)
BY_PATH: Mapping[str, ResourceSpec[Any, Any, Any]] = {spec.path: spec for spec in RESOURCES}


def resource(path: str) -> ResourceSpec[Any, Any, Any]:
    return BY_PATH[path]
