"""Typed records as the CRM returns them: tolerant of extra fields and loose types."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar, cast

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

__all__ = [
    "Account",
    "Board",
    "BoardColumn",
    "Case",
    "Contact",
    "Created",
    "DealCard",
    "Invoice",
    "Lead",
    "Opportunity",
    "Page",
    "Pipeline",
    "PipelineRef",
    "Record",
    "Stage",
    "StageMove",
    "Task",
]


def _ref_id(value: Any) -> Any:
    """A reference may arrive as an id or as a nested object carrying one."""
    if isinstance(value, dict):
        return value.get("id")  # type: ignore[union-attr]
    return value


def _ref_ids(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, list):
        return [_ref_id(item) for item in value]  # type: ignore[misc]
    return value


def _money(value: Any) -> Any:
    """Money is a decimal string on the wire; numbers are normalised to one."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return str(Decimal(str(value)).quantize(Decimal("0.01")))
        except InvalidOperation:
            return str(value)
    return value


Ref = Annotated[str | None, BeforeValidator(_ref_id)]
Refs = Annotated[list[str], BeforeValidator(_ref_ids)]
Money = Annotated[str | None, BeforeValidator(_money)]


UNREADABLE = "_unreadable"


class WireModel(BaseModel):
    """Base for everything read from the CRM: unknown fields are kept, ids may be numbers."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, populate_by_name=True)
    _labels: dict[str, str] = PrivateAttr(default_factory=dict[str, str])

    @property
    def labels(self) -> dict[str, str]:
        """Names of referenced records that arrived nested in this record, by id (set by the reader, `envelopes.py`,
        from the raw record: a validator here would run on every validation, rows of pages included)."""
        return self._labels


class Record(WireModel):
    id: str
    created_at: str | None = None
    updated_at: str | None = None
    _dropped: list[str] = PrivateAttr(default_factory=list[str])

    @property
    def unreadable(self) -> dict[str, str]:
        """Fields this row carried in a form we could not read, as raw text (the rest of the row is read)."""
        return cast(dict[str, str], (self.model_extra or {}).get(UNREADABLE) or {})

    @property
    def dropped(self) -> list[str]:
        """Fields the write that returned this record sent but the CRM did not store (`writes.py`)."""
        return self._dropped


class Contact(Record):
    first_name: str | None = None
    last_name: str | None = None
    primary_email: str | None = Field(None, validation_alias=AliasChoices("primary_email", "email"))
    mobile_number: str | None = Field(None, validation_alias=AliasChoices("mobile_number", "phone"))
    title: str | None = None
    organization: str | None = None
    department: str | None = None
    account: Ref = None
    address_line: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None
    description: str | None = None
    do_not_call: bool | None = None


class Account(Record):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    industry: str | None = None
    billing_address_line: str | None = None
    billing_city: str | None = None
    billing_state: str | None = None
    billing_postcode: str | None = None
    billing_country: str | None = None
    description: str | None = None
    status: str | None = None


class Lead(Record):
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    status: str | None = None
    source: str | None = None
    account_name: str | None = None
    opportunity_amount: Money = None
    probability: int | None = None
    close_date: str | None = None
    description: str | None = None


class Opportunity(Record):
    name: str | None = None
    account: Ref = None
    amount: Money = None
    currency: str | None = None
    stage: str | None = None
    probability: int | None = None
    closed_on: str | None = None
    lead_source: str | None = None
    contacts: Refs = Field(default_factory=list)
    description: str | None = None
    pipeline: Ref = None
    pipeline_stage: Ref = None
    is_closed: bool | None = None


class Task(Record):
    title: str | None = None
    status: str | None = None
    priority: str | None = None
    due_date: str | None = None
    description: str | None = None
    account: Ref = None
    contacts: Refs = Field(default_factory=list)
    opportunity: Ref = None
    lead: Ref = None
    case: Ref = None


class Case(Record):
    name: str | None = None
    status: str | None = None
    priority: str | None = None
    case_type: str | None = None
    account: Ref = None
    contacts: Refs = Field(default_factory=list)
    closed_on: str | None = None
    description: str | None = None


class Invoice(Record):
    invoice_title: str | None = None
    invoice_number: str | None = None
    status: str | None = None
    account: Ref = Field(None, validation_alias=AliasChoices("account", "account_id"))
    contact: Ref = Field(None, validation_alias=AliasChoices("contact", "contact_id"))
    currency: str | None = None
    amount: Money = Field(None, validation_alias=AliasChoices("amount", "total_amount"))
    issue_date: str | None = None
    due_date: str | None = None
    description: str | None = None


_CLOSING_KINDS = {"won": "won", "closed_won": "won", "lost": "lost", "closed_lost": "lost"}  # else: open


def _stage_kind(data: Any) -> Any:
    """A stage's kind from `stage_type` or `kind` (any case, CLOSED_WON too), or from `is_won` / `is_lost` flags."""
    if not isinstance(data, dict):
        return data
    raw = cast(dict[str, Any], data)
    kind = raw.get("stage_type") or raw.get("kind")
    kind = kind or ("won" if raw.get("is_won") else "lost" if raw.get("is_lost") else None)
    return {**raw, "stage_type": _CLOSING_KINDS.get(str(kind).strip().lower(), "open")} if kind else raw


class Stage(WireModel):
    id: str = Field(validation_alias=AliasChoices("id", "code"))
    name: str = Field(validation_alias=AliasChoices("name", "label"))
    stage_type: str = "open"
    order: int | None = None
    deal_count: int | None = Field(None, validation_alias=AliasChoices("deal_count", "item_count"))

    @model_validator(mode="before")
    @classmethod
    def _kind(cls, data: Any) -> Any:
        return _stage_kind(data)

    @property
    def is_terminal(self) -> bool:
        return self.stage_type in ("won", "lost")


class PipelineRef(WireModel):
    id: str
    name: str = Field(validation_alias=AliasChoices("name", "label"))
    is_default: bool = Field(False, validation_alias=AliasChoices("is_default", "default"))


class Pipeline(PipelineRef):
    stages: list[Stage] = Field(default_factory=list[Stage], validation_alias=AliasChoices("stages", "columns"))


class DealCard(WireModel):
    id: str
    name: str | None = None
    amount: Money = None
    currency: str | None = None
    account: Ref = None
    is_closed: bool | None = None
    position: int | None = None


CARD_KEYS = ("deals", "items", "cards")  # where a board column keeps its deals, by dialect


class BoardColumn(Stage):
    deals: list[DealCard] = Field(default_factory=list[DealCard], validation_alias=AliasChoices(*CARD_KEYS))


class Board(WireModel):
    pipeline: PipelineRef
    stages: list[BoardColumn] = Field(validation_alias=AliasChoices("stages", "columns"))


R = TypeVar("R", bound=WireModel)
PAGE_SIZE = 20


class Page(BaseModel, Generic[R]):
    """One slice of a list, whatever envelope the CRM used: its rows, where it started, where the next starts."""

    items: list[R]
    start: int = 0
    next_start: int | None = None
    total: int | None = None

    @property
    def has_more(self) -> bool:
        return self.next_start is not None

    @property
    def page(self) -> int:
        return self.start // PAGE_SIZE + 1


class Created(BaseModel, Generic[R]):
    """The outcome of a create: the record, or only the CRM's message when it gave no id."""

    record: R | None
    message: str | None = None


class StageMove(BaseModel):
    """A deal moved on the board: where it was, where it is now, and the deal as it was before the move."""

    deal: Opportunity
    pipeline: PipelineRef
    from_stage: Stage | None
    to_stage: Stage
    before: Opportunity
