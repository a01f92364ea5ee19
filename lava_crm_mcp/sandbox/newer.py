"""Records as the newer Django-CRM era shows them: renamed fields, references inline, and the kanban board."""

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .board import Card, Column, Layout
from .demo import record_id
from .demo_data import ODD_PROBABILITIES
from .records import Record
from .replies import Scope

KINDS = {"account": "accounts", "contact": "contacts", "contacts": "contacts"}
INLINED: Mapping[str, tuple[str, ...]] = {
    "opportunities": ("account", "contacts"),
    "tasks": ("account",),
    "invoices": ("account", "contact"),
}
"""The reference fields each resource shows with names of the records they reference."""


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    return [value] if isinstance(value, str) and value else []


class Lookups:
    """What a batch of records needs to be shown: the accounts and contacts it names (one query per kind at most),
    and the demo records whose probability reads as a decimal string."""

    def __init__(self, scope: Scope, records: Sequence[Record], fields: Collection[str]) -> None:
        wanted: dict[str, set[str]] = {"accounts": set(), "contacts": set()}
        for record in records:
            for field in fields:
                wanted[KINDS[field]].update(_ids(record.get(field)))
        self.accounts = scope.related("accounts", wanted["accounts"])
        self.contacts = scope.related("contacts", wanted["contacts"])
        self.odd = {record_id(scope.org, kind, key): text for kind, key, text in ODD_PROBABILITIES}

    def account(self, ident: str | None) -> dict[str, Any] | None:
        return {"id": ident, "name": self.accounts.get(ident, {}).get("name")} if ident else None

    def person(self, ident: str) -> dict[str, Any]:
        found = self.contacts.get(ident, {})
        return {"id": ident, "first_name": found.get("first_name"), "last_name": found.get("last_name")}

    def full_name(self, ident: str | None) -> str | None:
        found = self.contacts.get(ident or "")
        return " ".join(filter(None, (found.get("first_name"), found.get("last_name")))) if found else None

    def probability(self, ident: str, value: Any) -> Any:
        """The stored whole number, or the demo's odd decimal string while the stored value is its whole part."""
        text = self.odd.get(ident)
        return text if text is not None and value == int(Decimal(text)) else value


Replacements = Callable[[Record, Lookups], Mapping[str, Record]]
"""For one record: each stored field the newer era shows differently -> the fields it shows in its place."""


def _contact(record: Record, _lookups: Lookups) -> Mapping[str, Record]:
    return {
        "primary_email": {"email": record.get("primary_email")},
        "mobile_number": {"phone": record.get("mobile_number")},
    }


def _lead(record: Record, lookups: Lookups) -> Mapping[str, Record]:
    return {"probability": {"probability": lookups.probability(record["id"], record.get("probability"))}}


def _deal(record: Record, lookups: Lookups) -> Mapping[str, Record]:
    return {
        **_lead(record, lookups),
        "account": {"account": lookups.account(record.get("account"))},
        "contacts": {"contacts": [lookups.person(ident) for ident in _ids(record.get("contacts"))]},
    }


def _task(record: Record, lookups: Lookups) -> Mapping[str, Record]:
    return {"account": {"account": lookups.account(record.get("account"))}}


def _invoice(record: Record, lookups: Lookups) -> Mapping[str, Record]:
    amount, account, contact = record.get("amount"), lookups.account(record.get("account")), record.get("contact")
    return {
        "amount": {"total_amount": amount, "amount_due": "0.00" if record.get("status") == "Paid" else amount},
        "account": {"account": record.get("account"), "account_name": account["name"] if account else None},
        "contact": {"contact": contact, "contact_name": lookups.full_name(contact)},
    }


REPLACEMENTS: Mapping[str, Replacements] = {
    "contacts": _contact,
    "leads": _lead,
    "opportunities": _deal,
    "tasks": _task,
    "invoices": _invoice,
}


def _replace(record: Record, replacements: Mapping[str, Record]) -> Record:
    shown: Record = {}
    for key, value in record.items():
        shown.update(replacements.get(key, {key: value}))
    return shown


def show(resource: str, records: list[Record], scope: Scope) -> list[Record]:
    """The records of `resource` with the newer era's field names and inline references."""
    replacements = REPLACEMENTS.get(resource)
    if replacements is None or not records:
        return records
    lookups = Lookups(scope, records, INLINED.get(resource, ()))
    return [_replace(record, replacements(record, lookups)) for record in records]


def _card(card: Card, lookups: Lookups, today: date) -> dict[str, Any]:
    data = card.data
    return {
        "id": card.id,
        "name": data.get("name"),
        "amount": data.get("amount"),
        "currency": data.get("currency"),
        "probability": lookups.probability(card.id, data.get("probability")),
        "closed_on": data.get("closed_on"),
        "account": lookups.account(data.get("account")),
        "days_in_stage": max(0, (today - date.fromisoformat(card.entered_at[:10])).days),
    }


def _column(column: Column, lookups: Lookups, today: date) -> dict[str, Any]:
    stage = column.stage
    return {
        "id": stage.id,
        "name": stage.name,
        "order": stage.order,
        "stage_type": stage.stage_type,
        "item_count": len(column.cards),
        "items": [_card(card, lookups, today) for card in column.cards],
    }


def kanban(layout: Layout, scope: Scope) -> dict[str, Any]:
    """The family's deal board: one column per stage, each with its cards in board order."""
    cards = [card.data for column in layout.columns for card in column.cards]
    lookups, today = Lookups(scope, cards, ("account",)), datetime.now(UTC).date()
    columns = [_column(column, lookups, today) for column in layout.columns]
    return {"mode": "stage", "pipeline": layout.pipeline, "columns": columns, "total_items": len(cards)}
