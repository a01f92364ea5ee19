"""Write names verified by read-back: which name the CRM stores a field under, learned per credential.

The family's two API generations name some fields differently (a contact's `primary_email` / `email`, an invoice's
`account` / `account_id`), and a server of either era ignores the other's names, as DRF ignores unknown fields. So a
write is read back: a field sent but missing from the record is sent once more under its other name, and the name
that worked is remembered for this credential and resource (`WriteNames`); what neither name stored is reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.models import Record

__all__ = ["MAX_ENTRIES", "WriteNames", "dropped_note", "missing", "stored"]

MAX_ENTRIES = 5_000
EMPTY: tuple[Any, ...] = (None, "", [], {})
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class WriteNames:
    """(credential, resource) -> {our field name: the name the CRM stores it under}, for the aliased fields whose
    name had to change; shared by every view of a client, keyed by the credential's fingerprint."""

    def __init__(self, memory: dict[str, dict[str, str]], scope: str) -> None:
        self._memory, self._scope = memory, scope

    def _key(self, path: str) -> str:
        return f"{self._scope}/{path}"

    def name(self, path: str, ours: str) -> str:
        """The name to send `ours` under: the one learned to work, else our own."""
        return self._memory.get(self._key(path), {}).get(ours, ours)

    def other(self, path: str, ours: str, aliases: Mapping[str, str]) -> str | None:
        """The name of `ours` not sent last time (None when the field has only one name)."""
        if ours not in aliases:
            return None
        return aliases[ours] if self.name(path, ours) == ours else ours

    def outgoing(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The payload under the names learned for this credential."""
        return {self.name(path, key): value for key, value in payload.items()}

    def learn(self, path: str, names: Mapping[str, str]) -> None:
        """Remember that these fields are stored under these names."""
        if not names:
            return
        key = self._key(path)
        kept = self._memory.pop(key, {})  # re-inserted last: the oldest entry goes first when the memory is full
        while len(self._memory) >= MAX_ENTRIES:
            self._memory.pop(next(iter(self._memory)))
        self._memory[key] = {**kept, **names}


def _folded(value: Any) -> Any:
    """A value as compared with what was sent: numbers as numbers, text by its letters and digits in any case (a CRM
    may format a phone number or trim a name), lists as sets."""
    if isinstance(value, list):
        return {_folded(item) for item in cast(list[Any], value)}
    if isinstance(value, bool) or value is None:
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return re.sub(r"\W", "", str(value)).casefold()


def stored(sent: Any, back: Any) -> bool:
    """Whether the value read back is the value sent (a date may come back as a timestamp of that day)."""
    if back in EMPTY:
        return False
    if isinstance(sent, str) and isinstance(back, str) and DAY.fullmatch(sent):
        return back[:10] == sent
    return _folded(sent) == _folded(back)


def missing(record: Record, sent: Mapping[str, Any], unchecked: frozenset[str] = frozenset()) -> list[str]:
    """The fields sent with a value that the record read back does not hold (in our names): absent, or still
    another value (a server that ignores a field's name keeps what it had)."""
    return [
        name
        for name, value in sent.items()
        if value not in EMPTY and name not in unchecked and not stored(value, field_value(record, name))
    ]


def dropped_note(names: list[str], aliases: Mapping[str, str]) -> str:
    """What a result says of fields the CRM did not store."""
    shown = [f"{name} (also sent as {aliases[name]})" if name in aliases else name for name in names]
    return (
        f"Not stored by the CRM: {', '.join(shown)}. It answered without them, so they are not set; set them again "
        "later or in the CRM itself."
    )
