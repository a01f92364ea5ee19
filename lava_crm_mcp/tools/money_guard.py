"""The money guard: deleting an account or a contact never leaves an unpaid invoice or an open deal linked to
neither an account nor a contact, unless the call says what to do with them — `reassign_to` another record of the
same kind (they are moved there first), or `leave_unlinked`. Without either, the delete is refused, listing them
with their value and the calls that reassign them by hand.

Which records hold money, and through which links, is declared once here (`GUARDED`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast

from pydantic import BaseModel, Field

from lava_crm_mcp.crm import CrmClient, CrmError, CrmNotFound, ResourceSpec
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.resources import ACCOUNTS, CONTACTS, INVOICES, OPPORTUNITIES
from lava_crm_mcp.crm.search import Budget
from lava_crm_mcp.tools._shared import IdArg, ToolFailure, next_call
from lava_crm_mcp.tools.render import cell

__all__ = ["GUARDED", "Stranded", "exists", "guard_args", "settle", "stranded", "stranded_text"]

READ = 200  # money records read per kind; more than that is refused (reassign them first)


@dataclass(frozen=True)
class Money:
    """Records of `noun` that hold money while `still` holds, linked to the deleted record through `field` (found
    with the filter `via`), and kept attributed by any of `others`."""

    noun: ResourceSpec[Any, Any, Any]
    via: str
    field: str
    others: tuple[str, ...]
    still: Mapping[str, Any]
    state: str


GUARDED: Mapping[str, tuple[Money, ...]] = {
    ACCOUNTS.path: (
        Money(INVOICES, "account_id", "account", ("contact",), {"unpaid": True}, "unpaid"),
        Money(OPPORTUNITIES, "account_id", "account", ("contacts",), {"status": "open"}, "open"),
    ),
    CONTACTS.path: (
        Money(INVOICES, "contact_id", "contact", ("account",), {"unpaid": True}, "unpaid"),
        Money(OPPORTUNITIES, "contact_id", "contacts", ("account",), {"status": "open"}, "open"),
    ),
}


class Stranded(BaseModel):
    """An unpaid invoice or open deal the delete would leave with no account and no contact."""

    kind: str
    id: str
    name: str | None = None
    value: str | None = None
    """Its amount and currency ("1234.00 EUR"), and an invoice's status and due date."""
    reassign: str
    """The call that links it to another record by hand."""


def guard_args(spec: ResourceSpec[Any, Any, Any]) -> dict[str, Any]:
    """The arguments a guarded noun's delete takes, to say what to do with the money it would strand."""
    if spec.path not in GUARDED:
        return {}
    reassign = Field(None, description=f"Move its unpaid invoices and open deals to this {spec.noun} first.")
    leave = Field(False, description="Or leave them unlinked.")
    return {"reassign_to": (Annotated[IdArg | None, reassign], None), "leave_unlinked": (bool, leave)}


def _without(value: Any, record_id: str) -> list[Any]:
    """What is left of a link (one id, or a list of them) once `record_id` is gone."""
    items = cast(list[Any], value) if isinstance(value, list) else [value]
    return [item for item in items if item not in (None, "", record_id)]


def _value(money: Money, record: Record) -> str | None:
    amount, currency = field_value(record, "amount"), field_value(record, "currency")
    parts = [f"{amount} {currency or ''}".strip() if amount not in (None, "") else None]
    if money.noun is INVOICES:
        due = field_value(record, "due_date")
        parts.append(f"{field_value(record, 'status') or money.state}" + (f", due {str(due)[:10]}" if due else ""))
    return ", ".join(part for part in parts if part) or None


def _reassign_call(money: Money, spec: ResourceSpec[Any, Any, Any], record: Record) -> str:
    other = f"<another {spec.noun} id>"
    change = {"add_contact_ids": [other]} if money.field == "contacts" else {money.field: other}
    return next_call(f"update_{money.noun.noun}", {f"{money.noun.noun}_id": record.id, **change})


async def stranded(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], record_id: str) -> list[Stranded]:
    """The unpaid invoices and open deals that deleting this record would leave linked to nobody."""
    found: list[Stranded] = []
    for money in GUARDED.get(spec.path, ()):
        filters = {money.via: record_id, **money.still}
        hits = await crm.search(money.noun.path, filters=filters, limit=READ, budget=Budget(pages=READ // 20))
        if hits.next is not None or hits.stopped_early:
            raise ToolFailure(
                f"More than {READ} {money.state} {money.noun.plural} link to this {spec.noun}: reassign them first "
                f"({next_call(f'search_{money.noun.plural}', filters)} lists them), then delete it."
            )
        for record in hits.items:
            if _without(field_value(record, money.field), record_id) or any(
                _without(field_value(record, other), record_id) for other in money.others
            ):
                continue  # still linked to someone
            name = money.noun.display(record)
            reassign = _reassign_call(money, spec, record)
            found.append(
                Stranded(kind=money.noun.noun, id=record.id, name=name, value=_value(money, record), reassign=reassign)
            )
    return found


def stranded_text(items: Sequence[Stranded]) -> str:
    return "; ".join(
        f"{item.kind} {cell(item.name or '-')} ({item.id})" + (f", {item.value}" if item.value else "")
        for item in items
    )


async def exists(crm: CrmClient, spec: ResourceSpec[Any, Any, Any], target: str) -> None:
    """Refuse a `reassign_to` that names no record of this kind."""
    try:
        await crm.records(spec.path).get(target)
    except CrmNotFound as exc:
        raise ToolFailure(f"reassign_to: no {spec.noun} {target!r}. Find one with search_{spec.plural}.") from exc


async def settle(
    crm: CrmClient, spec: ResourceSpec[Any, Any, Any], record_id: str, items: Sequence[Stranded], target: str
) -> list[str]:
    """Link each stranded record to `target` (another record of the same kind) before the delete; a failure stops
    with what was moved, and nothing is deleted."""
    await exists(crm, spec, target)
    moved: list[str] = []
    for item in items:
        money = next(m for m in GUARDED[spec.path] if m.noun.noun == item.kind)
        records = crm.records(money.noun.path)
        try:
            if money.field == "contacts":
                now = field_value(await records.get(item.id), "contacts")
                await records.update(item.id, {"contacts": [*_without(now, record_id), target]})
            else:
                await records.update(item.id, {money.field: target})
        except CrmError as exc:
            done = ", ".join(moved) or "nothing"
            raise ToolFailure(
                f"Moving {item.kind} {item.id} to {spec.noun} {target} failed: {exc.message} Moved so far: {done}. "
                "Nothing was deleted; call the delete again (a fresh preview) to go on."
            ) from exc
        moved.append(f"{item.kind} {item.id}")
    return moved
