"""The plan of a sync: each row matched to an existing record — a normalized email, then a phone number's digits,
then the name within the same account — and planned as create, update (only the fields that differ), unchanged, or,
when the match is ambiguous or contradicts itself, a decision for the caller, with the candidates. Never a guess.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import anyio
from pydantic import AfterValidator, BaseModel, Field

from lava_crm_mcp.crm import CrmClient, CrmNotFound, ResourceSpec
from lava_crm_mcp.crm.filters import field_value, is_phone, phone_key
from lava_crm_mcp.crm.inputs import ID_PATTERN, Country, Email, Industry, Text
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.resources import ACCOUNTS, CONTACTS
from lava_crm_mcp.crm.search import Budget
from lava_crm_mcp.tools._shared import Lookup, ToolArgs, next_call
from lava_crm_mcp.tools.matching import fold, keys_of, norm_email, same
from lava_crm_mcp.tools.progress import progress
from lava_crm_mcp.tools.render import Link

__all__ = ["ACCOUNT_KIND", "CONTACT_KIND", "Kind", "Plan", "Planned", "Row", "plan_rows"]

AT_ONCE = 8
WHOLE = 500


INDUSTRIES = get_args(Industry)


def _industry(value: str) -> str:
    """An industry in any case (the list is create_account's, not repeated in this schema)."""
    upper = " ".join(value.upper().split())
    if upper not in INDUSTRIES:
        raise ValueError(f"not an industry; one of: {', '.join(INDUSTRIES)}")
    return upper


AnyIndustry = Annotated[str, AfterValidator(_industry)]


class Row(ToolArgs):
    """One row of a sync: strict and compact in the schema, like every tool argument."""

    def named_account(self) -> str | None:
        """The account the row names (an id or a name), for the nouns that have one."""
        value = self.__dict__.get("account")
        return str(value) if value else None


class ContactRow(Row):
    first_name: Text
    last_name: Text
    email: Email | None = None
    phone: Text | None = None
    title: Text | None = None
    account: Lookup | None = Field(None, description="Account id or name.")
    city: Text | None = None
    country: Country | None = None


class AccountRow(Row):
    name: Text
    email: Email | None = None
    phone: Text | None = None
    website: Text | None = None
    industry: AnyIndustry | None = Field(None, description="As in create_account.")
    city: Text | None = None
    country: Country | None = None


@dataclass(frozen=True)
class Kind:
    """A noun that can be synced: its rows, and each row field's CRM field."""

    spec: ResourceSpec[Any, Any, Any]
    row: type[Row]
    fields: Mapping[str, str]


CONTACT_KIND = Kind(
    CONTACTS,
    ContactRow,
    {"first_name": "first_name", "last_name": "last_name", "email": "primary_email", "phone": "mobile_number"}
    | {"title": "title", "account": "account", "city": "city", "country": "country"},
)
ACCOUNT_KIND = Kind(
    ACCOUNTS,
    AccountRow,
    {"name": "name", "email": "email", "phone": "phone", "website": "website", "industry": "industry"}
    | {"city": "billing_city", "country": "billing_country"},
)


class Planned(BaseModel):
    """One row: what the plan does with it (and, once applied, what happened)."""

    row: int
    action: Literal["create", "update", "unchanged", "decide"]
    id: str | None = None
    name: str | None = None
    changes: dict[str, list[Any]] = Field(default_factory=dict[str, list[Any]])
    """Field → [now, after]: only the fields that differ."""
    why: str | None = None
    candidates: list[Link] = Field(default_factory=list[Link])
    outcome: Literal["created", "updated", "unchanged", "skipped", "failed", "unknown"] | None = None
    detail: str | None = None
    again: bool = Field(default=False, exclude=True)
    """Failed because the CRM could not take it then (a resend may succeed), not refused."""


@dataclass
class Plan:
    """The rows planned, the bodies to write (by row), and the versions of the records the plan rests on."""

    rows: list[Planned]
    bodies: dict[int, dict[str, Any]]
    version: str


def _crm_fields(kind: Kind, row: Row, account: str | None) -> dict[str, Any]:
    """The row in the CRM's field names, only what it gives (the account as resolved to an id)."""
    given = row.model_dump(mode="json", exclude_none=True)
    body = {kind.fields[name]: value for name, value in given.items() if name != "account"}
    return body | ({"account": account} if account else {})


def _same_value(name: str, old: Any, new: Any, labels: Sequence[str]) -> bool:
    """Whether a field already holds what the row gives: emails ignoring case, numbers in any format, names up to
    case and accents (the CRM's spelling is kept: a list in capitals does not rename anyone)."""
    if name in labels:
        return fold(str(old or "")) == fold(str(new or ""))
    if "email" in name:
        return norm_email(old) == norm_email(new)
    if is_phone(str(old or "")) and is_phone(str(new or "")):
        return phone_key(str(old)) == phone_key(str(new))
    return str(old or "").strip() == str(new or "").strip()


def _changes(record: Record, body: Mapping[str, Any], labels: Sequence[str]) -> dict[str, list[Any]]:
    return {
        name: [field_value(record, name), value]
        for name, value in body.items()
        if not _same_value(name, field_value(record, name), value, labels)
    }


async def _accounts(crm: CrmClient, rows: Sequence[Row]) -> dict[str, str | list[Link]]:
    """Each account a row names: its id, or (none or several found) the candidates."""
    names = {account for row in rows if (account := row.named_account())}
    found: dict[str, str | list[Link]] = {}

    async def one(value: str) -> None:
        if re.fullmatch(ID_PATTERN, value):
            try:
                found[value] = (await crm.records(ACCOUNTS.path).get(value)).id
                return
            except CrmNotFound:
                pass  # not an id after all: a one-word name
        hits = await crm.search(ACCOUNTS.path, text=value, limit=20)
        named = [hit for hit in hits.items if fold(ACCOUNTS.display(hit)) == fold(value)]
        found[value] = (
            named[0].id if len(named) == 1 else [Link(id=hit.id, name=ACCOUNTS.display(hit)) for hit in named]
        )

    async with anyio.create_task_group() as group:
        for value in names:
            group.start_soon(one, value)
    return found


async def _everyone(crm: CrmClient, kind: Kind) -> list[Record] | None:
    """Every record of the noun, when an org has few enough to read them all at once (at most WHOLE, about a
    page per 20): then each row is matched among them all, without a search per row. None: more than that."""
    found = await crm.search(kind.spec.path, limit=WHOLE, budget=Budget(pages=WHOLE // 20, seconds=10.0))
    return found.items if found.next is None and not found.stopped_early and not found.repeated else None


async def _candidates(crm: CrmClient, kind: Kind, body: Mapping[str, Any]) -> list[Record]:
    """Records that may be this row: found by its email, its phone and its name (each one targeted search)."""
    spec, found = kind.spec, dict[str, Record]()
    email, phone = body.get(kind.fields["email"]), body.get(kind.fields["phone"])
    # By the name's longest word: the CRM matches words as written, and "Société" is not "societe" to it.
    name = max(" ".join(str(body.get(field, "")) for field in spec.label).split(), key=len, default="")
    searches: list[tuple[str | None, dict[str, Any]]] = [
        (name, {"account_id": body["account"]} if body.get("account") else {})
    ]
    searches += [(email, {}), (phone, {})]
    for text, filters in searches:
        if text:
            for record in (await crm.search(spec.path, text=str(text), filters=filters, limit=20)).items:
                found[record.id] = record
    return list(found.values())


def _decide(number: int, why: str, records: Sequence[Record], spec: ResourceSpec[Any, Any, Any]) -> Planned:
    candidates = [Link(id=record.id, name=spec.display(record)) for record in records]
    return Planned(row=number, action="decide", why=why, candidates=candidates)


def _namesake(spec: ResourceSpec[Any, Any, Any], kind: Kind, record: Record, theirs: str, body: dict[str, Any]) -> str:
    """Why a namesake with another email is a decision, and the calls that settle it either way (the next sync then
    matches the row by its email)."""
    email = kind.fields["email"]
    same_one = next_call(f"update_{spec.noun}", {f"{spec.noun}_id": record.id, email: body[email]})
    another = next_call(f"create_{spec.noun}", body)
    return (
        f"a {spec.noun} with this name at this account has another email ({theirs}). The same one: {same_one}; "
        f"another: {another}; then sync again"
    )


def _match(number: int, kind: Kind, body: dict[str, Any], records: Sequence[Record]) -> tuple[Planned, Record | None]:
    """The plan for one row, and the record it updates (if any)."""
    spec, hits = kind.spec, same(kind.spec.path, body, records)
    for key, said in (("email", "this email"), ("phone", "this phone number"), ("name", "this name at this account")):
        matched = hits.get(key, [])
        if len(matched) > 1:
            merge = next_call(f"merge_{spec.plural}", {"keep_id": matched[0].id, "merge_id": matched[1].id})
            why = f"{len(matched)} {spec.plural} have {said}: merge them first (e.g. {merge}), then sync again"
            return _decide(number, why, matched, spec), None
        if matched:
            record = matched[0]
            email = norm_email(body.get(kind.fields["email"]))
            theirs = norm_email(field_value(record, kind.fields["email"]))
            if key == "name" and email and theirs and email != theirs:
                return _decide(number, _namesake(spec, kind, record, theirs, body), matched, spec), None
            changes = _changes(record, body, spec.label)
            action = "update" if changes else "unchanged"
            return Planned(row=number, action=action, id=record.id, name=spec.display(record), changes=changes), record
    return Planned(row=number, action="create", name=" ".join(str(body.get(f, "")) for f in spec.label).strip()), None


async def plan_rows(crm: CrmClient, kind: Kind, rows: Sequence[Row]) -> Plan:
    """Match every row (a few at a time) and plan it; rows that repeat an earlier row's key need a decision."""
    accounts = await _accounts(crm, rows) if "account" in kind.fields else {}
    everyone = await _everyone(crm, kind) if len(rows) > 1 else None
    planned: dict[int, tuple[Planned, Record | None]] = {}
    bodies: dict[int, dict[str, Any]] = {}
    limiter = anyio.CapacityLimiter(AT_ONCE)

    async def one(number: int, row: Row) -> None:
        account = accounts.get(row.named_account() or "")
        if isinstance(account, list):
            said = "no account has this name" if not account else "several accounts have this name"
            planned[number] = (
                _decide(number, f"{said}: give its id, or create it first (sync_accounts)", [], kind.spec),
                None,
            )
            planned[number][0].candidates = account
            return
        body = _crm_fields(kind, row, account)
        bodies[number] = body
        async with limiter:
            candidates = everyone if everyone is not None else await _candidates(crm, kind, body)
            planned[number] = _match(number, kind, body, candidates)
        await progress(len(planned), len(rows), f"matching {kind.spec.plural}")

    async with anyio.create_task_group() as group:
        for number, row in enumerate(rows, start=1):
            group.start_soon(one, number, row)
    result = [planned[number][0] for number in sorted(planned)]
    _twins(kind, result, bodies)
    matched = sorted(f"{record.id}@{record.updated_at}" for _, record in planned.values() if record is not None)
    return Plan(result, bodies, hashlib.sha256(json.dumps(matched).encode()).hexdigest())


def _twins(kind: Kind, rows: list[Planned], bodies: Mapping[int, Mapping[str, Any]]) -> None:
    """A row whose email, phone or name (in its account) an earlier row of this list has: a decision, not a second
    write of the same record."""
    seen: dict[tuple[str, str], int] = {}
    for item in rows:
        if item.row not in bodies:
            continue
        keys = [key for key in keys_of(kind.spec.path, dict(bodies[item.row])) if key[0] != "folded name"]
        earlier = next((seen[key] for key in keys if key in seen), None)
        for key in keys:  # a row to decide still holds its keys: a later row with them is the same record
            seen.setdefault(key, item.row)
        if earlier is not None and item.action != "decide":
            why = f"the same {kind.spec.noun} as row {earlier}: send one row for it"
            item.action, item.why, item.changes = "decide", why, {}
