"""What we send: typed create/update bodies per resource, validated before any request."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from lava_crm_mcp.crm.text import clean_text

__all__ = [
    "AccountCreate",
    "AccountUpdate",
    "CaseCreate",
    "CaseUpdate",
    "ContactCreate",
    "ContactUpdate",
    "Id",
    "InvoiceCreate",
    "InvoiceUpdate",
    "LeadCreate",
    "LeadUpdate",
    "LegacyStage",
    "OpportunityCreate",
    "OpportunityUpdate",
    "TaskCreate",
    "TaskUpdate",
]

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
MONEY_PATTERN = r"^\d{1,10}(\.\d{1,2})?$"  # 12 digits in all, as the CRM stores money
# What each pattern means, for error messages a person or a model can act on.
PATTERN_HINTS = {
    ID_PATTERN: "must be an id exactly as returned by a search, get or list call",
    EMAIL_PATTERN: "must be an email address like name@example.com",
    COUNTRY_PATTERN: "must be an ISO-2 country code like US",
    CURRENCY_PATTERN: "must be an ISO-4217 currency code like USD",
    MONEY_PATTERN: "must be a decimal amount like 1500.00",
}


def _as_shown(value: str) -> str:
    """What is written is what results show: the characters a result strips (zero-width, bidi controls, NUL…) are
    removed before writing, so no two records can differ only by an invisible character."""
    return clean_text(value)


def _trimmed(value: str) -> str:
    shown = clean_text(value).strip()
    if value and not shown:
        raise ValueError("holds only invisible characters: give visible text")
    return shown


Visible = AfterValidator(_as_shown)
Trimmed = AfterValidator(_trimmed)
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), Trimmed]
LongText = Annotated[str, StringConstraints(max_length=10_000), Visible]
Email = Annotated[str, StringConstraints(strip_whitespace=True, pattern=EMAIL_PATTERN, max_length=254), Trimmed]
Country = Annotated[str, StringConstraints(pattern=COUNTRY_PATTERN)]
Currency = Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)]
Money = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2), PlainSerializer(lambda d: f"{d:.2f}", return_type=str)
]
Percent = Annotated[int, Field(ge=0, le=100)]
Date = dt.date

LegacyStage = Literal["PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST"]
Industry = Literal[
    "ADVERTISING",
    "AGRICULTURE",
    "AUTOMOTIVE",
    "BANKING",
    "BIOTECHNOLOGY",
    "COMPUTER",
    "EDUCATION",
    "ELECTRONICS",
    "ENERGY",
    "FINANCE",
    "HEALTHCARE",
    "INSURANCE",
    "LEGAL",
    "MANUFACTURING",
    "REAL ESTATE",
    "RETAIL",
    "SERVICE",
    "SOFTWARE",
    "TECHNOLOGY",
    "TELECOMMUNICATIONS",
    "TRANSPORTATION",
    "OTHER",
]
LeadStatus = Literal["assigned", "in process", "converted", "recycled", "closed"]
LeadSource = Literal["call", "email", "existing customer", "partner", "public relations", "campaign", "other"]
TaskStatus = Literal["New", "In Progress", "Completed"]
TaskPriority = Literal["Low", "Medium", "High"]
CaseStatus = Literal["New", "Assigned", "Pending", "Closed", "Rejected", "Duplicate"]
CasePriority = Literal["Low", "Normal", "High", "Urgent"]
CaseType = Literal["Question", "Incident", "Problem"]
InvoiceStatus = Literal["Draft", "Sent", "Paid", "Pending", "Cancelled"]


class Body(BaseModel):
    """Base for request bodies: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class _ContactFields(Body):
    primary_email: Email | None = None
    mobile_number: Text | None = None
    title: Text | None = None
    organization: Text | None = None
    department: Text | None = None
    account: Id | None = None
    address_line: Text | None = None
    city: Text | None = None
    state: Text | None = None
    postcode: Text | None = None
    country: Country | None = None
    description: LongText | None = None
    do_not_call: bool | None = None


class ContactUpdate(_ContactFields):
    first_name: Text | None = None
    last_name: Text | None = None


class ContactCreate(_ContactFields):
    first_name: Text
    last_name: Text


class _AccountFields(Body):
    email: Email | None = None
    phone: Text | None = None
    website: Text | None = None
    industry: Industry | None = None
    billing_address_line: Text | None = None
    billing_city: Text | None = None
    billing_state: Text | None = None
    billing_postcode: Text | None = None
    billing_country: Country | None = None
    description: LongText | None = None
    status: Literal["open", "close"] | None = None


class AccountUpdate(_AccountFields):
    name: Text | None = None


class AccountCreate(_AccountFields):
    name: Text


class _LeadFields(Body):
    first_name: Text | None = None
    last_name: Text | None = None
    email: Email | None = None
    phone: Text | None = None
    status: LeadStatus | None = None
    source: LeadSource | None = None
    account_name: Text | None = None
    opportunity_amount: Money | None = None
    probability: Percent | None = None
    close_date: Date | None = None
    description: LongText | None = None


class LeadUpdate(_LeadFields):
    title: Text | None = None


class LeadCreate(_LeadFields):
    title: Text


class _OpportunityFields(Body):
    """No `stage` here: a deal changes stage only through the pipeline move endpoint."""

    account: Id | None = None
    amount: Money | None = None
    currency: Currency | None = None
    probability: Percent | None = None
    closed_on: Date | None = None
    lead_source: Text | None = None  # the family spells deal sources its own way (CALL, WEBSITE): not a lead `source`
    contacts: list[Id] | None = None
    description: LongText | None = None


class OpportunityUpdate(_OpportunityFields):
    name: Text | None = None


class OpportunityCreate(_OpportunityFields):
    name: Text
    stage: LegacyStage | None = None
    pipeline_stage: Id | None = None


class _TaskFields(Body):
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: Date | None = None
    description: LongText | None = None
    account: Id | None = None
    contacts: list[Id] | None = None
    opportunity: Id | None = None
    lead: Id | None = None
    case: Id | None = None


class TaskUpdate(_TaskFields):
    title: Text | None = None


class TaskCreate(_TaskFields):
    title: Text


class _CaseFields(Body):
    status: CaseStatus | None = None
    priority: CasePriority | None = None
    case_type: CaseType | None = None
    account: Id | None = None
    contacts: list[Id] | None = None
    closed_on: Date | None = None
    description: LongText | None = None


class CaseUpdate(_CaseFields):
    name: Text | None = None


class CaseCreate(_CaseFields):
    name: Text


class _InvoiceFields(Body):
    status: InvoiceStatus | None = None
    account: Id | None = None
    contact: Id | None = None
    currency: Currency | None = None
    amount: Money | None = None
    issue_date: Date | None = None
    due_date: Date | None = None
    description: LongText | None = None


class InvoiceUpdate(_InvoiceFields):
    invoice_title: Text | None = None


class InvoiceCreate(_InvoiceFields):
    invoice_title: Text
