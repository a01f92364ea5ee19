"""When two records are the same person or company: the keys compared (a normalized email, a phone number's digits,
a name folded of case and accents, within an account), and duplicate groups found in one bounded read.

Used by find_duplicates, and by the syncs to match incoming rows to records. A key never guesses: two records
sharing a key are reported with the reason; which one to keep is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lava_crm_mcp.crm.filters import field_value, is_phone, phone_key
from lava_crm_mcp.crm.models import Record
from lava_crm_mcp.crm.text import clean_text, fold

__all__ = ["FIELDS", "REASONS", "Key", "fold", "group_duplicates", "keys_of", "norm_email"]

Key = tuple[str, str]
"""(what it is, its value): ("email", "ada@example.com"), ("phone", "79460958"), ("name", "irene joliot")."""


def norm_email(value: Any) -> str:
    return clean_text(str(value or "")).strip().casefold()


def _phone(value: Any) -> str | None:
    text = str(value or "")
    return phone_key(text) if is_phone(text) else None


# The fields each matching kind reads, per noun: emails, phones, the name's parts, and the account a name is within.
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {"email": ("primary_email",), "phone": ("mobile_number",), "name": ("first_name", "last_name")},
    "accounts": {"email": ("email",), "phone": ("phone",), "name": ("name",)},
}
WITHIN = {"contacts": "account"}


def keys_of(path: str, record: Record | dict[str, Any]) -> list[Key]:
    """The keys a record (or an incoming row, by the record's field names) is matched by, strongest first."""

    def get(name: str) -> Any:
        return record.get(name) if isinstance(record, dict) else field_value(record, name)

    fields, keys = FIELDS[path], list[Key]()
    keys += [("email", email) for name in fields["email"] if (email := norm_email(get(name)))]
    keys += [("phone", number) for name in fields["phone"] if (number := _phone(get(name)))]
    name = fold(" ".join(str(get(part) or "") for part in fields["name"]))
    if name:
        within = WITHIN.get(path)
        keys.append(("name", f"{name}@{get(within) or ''}" if within else name))
        if within:
            keys.append(("folded name", name))
    return keys


REASONS = {
    "email": "the same email",
    "phone": "the same phone number",
    "name": "the same name at the same account",
    "folded name": "names equal but for case or accents",
}


@dataclass
class Group:
    """Records found to be the same by at least one key, and which keys."""

    ids: list[str]
    reasons: list[str]


def group_duplicates(path: str, records: Sequence[Record]) -> list[Group]:
    """Records sharing any key, joined transitively (A~B by email, B~C by phone: one group of three)."""
    parent = {record.id: record.id for record in records}

    def root(ident: str) -> str:
        while parent[ident] != ident:
            parent[ident] = parent[parent[ident]]
            ident = parent[ident]
        return ident

    reasons: dict[str, set[str]] = {}
    first: dict[Key, str] = {}
    for record in records:
        for key in keys_of(path, record):
            if key in first and root(first[key]) != root(record.id):
                reasons.setdefault(root(first[key]), set()).update(reasons.pop(root(record.id), set()))
                parent[root(record.id)] = root(first[key])
                reasons[root(first[key])].add(REASONS[key[0]])
            elif key in first:
                reasons.setdefault(root(record.id), set()).add(REASONS[key[0]])
            first.setdefault(key, record.id)
    members: dict[str, list[str]] = {}
    for record in records:
        members.setdefault(root(record.id), []).append(record.id)
    return [Group(ids, sorted(reasons.get(head, set()))) for head, ids in members.items() if len(ids) > 1]


def same(path: str, row: dict[str, Any], candidates: Iterable[Record]) -> dict[str, list[Record]]:
    """For each kind of key, the candidates sharing it with the row."""
    wanted = dict(keys_of(path, row))
    found: dict[str, list[Record]] = {}
    for record in candidates:
        for kind, value in keys_of(path, record):
            if wanted.get(kind) == value and record not in found.setdefault(kind, []):
                found[kind].append(record)
    return found
