"""Pydantic models of the seven CRM resources: what a write accepts and what a read returns."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .fields import Country, Currency, Day, Email, LongText, Money, Name, NullableRef, Percent, Ref, Text

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
LegacyStage = Literal["PROSPECTING", "QUALIFICATION", "PROPOSAL", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST"]
LeadStatus = Literal["assigned", "in process", "converted", "recycled", "closed"]
LeadSource = Literal["call", "email", "existing customer", "partner", "public relations", "campaign", "other"]


class Body(BaseModel):
    """Base of every write body: unknown fields are ignored, as DRF ignores them."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)


class Contact(Body):
    first_name: Name
    last_name: Name
    primary_email: Email | None = None
    """Unique per org (case-insensitive)."""
    mobile_number: Text | None = None
    title: Text | None = None
    organization: Text | None = None
    department: Text | None = None
    account: NullableRef = None
    address_line: Text | None = None
    city: Text | None = None
    state: Text | None = None
    postcode: Text | None = None
    country: Country | None = None
    """ISO 3166-1 alpha-2 code."""
    description: LongText | None = None
    do_not_call: bool = False


class Account(Body):
    name: Name
    """Unique per org (case-insensitive)."""
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
    status: Literal["open", "close"] = "open"


class Lead(Body):
    title: Name
    first_name: Text | None = None
    last_name: Text | None = None
    email: Email | None = None
    phone: Text | None = None
    status: LeadStatus = "assigned"
    source: LeadSource | None = None
    account_name: Text | None = None
    opportunity_amount: Money | None = None
    probability: Percent | None = None
    close_date: Day | None = None
    description: LongText | None = None


class Opportunity(Body):
    name: Name
    account: NullableRef = None
    amount: Money | None = None
    currency: Currency = "USD"
    """ISO 4217 code."""
    stage: LegacyStage = "PROSPECTING"
    """Legacy enum; writing it never moves the deal on the board (use the move endpoint)."""
    probability: Percent | None = None
    closed_on: Day | None = None
    lead_source: Text | None = None
    contacts: list[Ref] = Field(default_factory=list[str])
    description: LongText | None = None
    pipeline_stage: NullableRef = None
    """Create only: the board stage to place the new deal in (default: first open stage of the default pipeline)."""


class Task(Body):
    title: Name
    status: Literal["New", "In Progress", "Completed"] = "New"
    priority: Literal["Low", "Medium", "High"] = "Medium"
    due_date: Day | None = None
    description: LongText | None = None
    account: NullableRef = None
    contacts: list[Ref] = Field(default_factory=list[str])
    opportunity: NullableRef = None
    lead: NullableRef = None
    """The lead this task follows up, if any."""
    case: NullableRef = None
    """The case this task works on, if any."""


class Case(Body):
    name: Name
    status: Literal["New", "Assigned", "Pending", "Closed", "Rejected", "Duplicate"] = "New"
    priority: Literal["Low", "Normal", "High", "Urgent"] = "Normal"
    case_type: Literal["Question", "Incident", "Problem"] | None = None
    account: NullableRef = None
    contacts: list[Ref] = Field(default_factory=list[str])
    closed_on: Day | None = None
    description: LongText | None = None


class Invoice(Body):
    invoice_title: Name
    status: Literal["Draft", "Sent", "Paid", "Pending", "Cancelled"] = "Draft"
    account: NullableRef = None
    contact: NullableRef = None
    currency: Currency = "USD"
    amount: Money | None = None
    issue_date: Day | None = None
    due_date: Day | None = None
    description: LongText | None = None


class Stamped(BaseModel):
    """Read-only fields every record carries."""

    id: str
    created_at: str
    """ISO-8601 UTC timestamp."""
    updated_at: str


class ContactRecord(Contact, Stamped):
    pass


class AccountRecord(Account, Stamped):
    pass


class LeadRecord(Lead, Stamped):
    pass


class OpportunityRecord(Opportunity, Stamped):
    pipeline: str
    """Read-only: the pipeline the deal sits in."""
    pipeline_stage: str | None = None  # pyright: ignore[reportIncompatibleVariableOverride]
    """Read-only: the board stage (column) the deal sits in."""
    is_closed: bool
    """Read-only: true iff the deal sits in a won or lost stage."""


class TaskRecord(Task, Stamped):
    pass


class CaseRecord(Case, Stamped):
    pass


class InvoiceRecord(Invoice, Stamped):
    invoice_number: str
    """Read-only, numbered per org: INV-0001, INV-0002, ..."""
