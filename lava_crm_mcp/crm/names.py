"""Display names of referenced records, looked up in bounded, concurrent reads and cached briefly per credential.

Every key starts with a fingerprint of the credential that read the name, so two callers' orgs (passthrough mode)
never share an entry. The cache is small and short-lived, and stale-while-revalidate: a name read less than `ttl`
seconds ago is used as is; one read up to `ttl + stale` seconds ago is used once more while it is read again behind
the call (`background.py`), so no call waits for a name it already had; an older one is read before the answer. A
rename elsewhere therefore shows on the second call after `ttl` seconds (at the latest `ttl + stale`), and a write
through this adapter updates its own entry at once.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import anyio

from lava_crm_mcp.crm.background import Background
from lava_crm_mcp.crm.errors import CrmError, CrmNotFound

__all__ = ["Labels", "NameCache", "Ref", "fingerprint"]

logger = logging.getLogger("lava_crm_mcp.crm")
Ref = tuple[str, str]
"""(resource path, record id)."""
Lookup = Callable[[str, str], Awaitable[str | None]]
MISSING = object()


def fingerprint(secret: str) -> str:
    """A short, non-reversible key for a credential (never the credential itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass
class NameCache:
    """(scope, path, id) -> display name (None: no such record), with a time-to-live, a window past it in which the
    entry is still served while it is refreshed, and a size bound."""

    ttl: float = 60.0
    stale: float = 540.0
    max_entries: int = 10_000

    def __post_init__(self) -> None:
        self._entries: OrderedDict[tuple[str, str, str], tuple[float, str | None]] = OrderedDict()

    def get(self, scope: str, ref: Ref) -> object:
        """The entry while fresh, else MISSING."""
        name, due = self.lookup(scope, ref)
        return MISSING if due else name

    def lookup(self, scope: str, ref: Ref) -> tuple[object, bool]:
        """(the entry, or MISSING past the stale window; whether it is past its time-to-live and due a refresh)."""
        entry = self._entries.get((scope, *ref))
        if entry is None:
            return MISSING, True
        age = time.monotonic() - entry[0]
        return (entry[1] if age < self.ttl + self.stale else MISSING), age >= self.ttl

    def put(self, scope: str, ref: Ref, name: str | None) -> None:
        key = (scope, *ref)
        self._entries[key] = (time.monotonic(), name)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, scope: str, ref: Ref) -> None:
        self._entries.pop((scope, *ref), None)


class Labels:
    """Names for references: from what the CRM sent nested, else the cache, else a read of the record."""

    def __init__(
        self,
        cache: NameCache,
        scope: str,
        lookup: Lookup,
        *,
        max_reads: int = 40,
        parallel: int = 8,
        background: Background | None = None,
    ) -> None:
        self.cache, self.scope, self._lookup = cache, scope, lookup
        self.max_reads, self.parallel = max_reads, parallel
        self.background = background

    def remember(self, ref: Ref, name: str | None) -> None:
        self.cache.put(self.scope, ref, name)

    def forget(self, ref: Ref) -> None:
        self.cache.forget(self.scope, ref)

    def known(self, path: str, record_id: str) -> bool:
        """Whether a record of `path` with this id was read (or written) here lately."""
        return isinstance(self.cache.get(self.scope, (path, record_id)), str)

    async def names(self, refs: Iterable[Ref]) -> dict[Ref, str | None]:
        """A name for each reference (None when the record is gone or could not be read)."""
        found: dict[Ref, str | None] = {}
        wanted: list[Ref] = []
        for ref in dict.fromkeys(refs):
            cached, due = self.cache.lookup(self.scope, ref)
            if cached is not MISSING and due and self.background is not None:
                due = not self.background.refresh((self.scope, ref), lambda ref=ref: self._read(ref))
            if cached is MISSING or due:
                wanted.append(ref)
            else:
                found[ref] = cached if isinstance(cached, str) else None
        read, unread = wanted[: self.max_reads], wanted[self.max_reads :]
        found |= dict.fromkeys(unread)
        limiter = anyio.CapacityLimiter(self.parallel)

        async def one(ref: Ref) -> None:
            async with limiter:
                found[ref] = await self._read(ref)

        async with anyio.create_task_group() as group:
            for ref in read:
                group.start_soon(one, ref)
        return found

    async def _read(self, ref: Ref) -> str | None:
        try:
            name = await self._lookup(*ref)
        except CrmNotFound:
            self.remember(ref, None)
            return None
        except CrmError as exc:  # a name is a courtesy: show the id alone rather than fail the call
            logger.warning("could not read the name of %s %s: %s", ref[0], ref[1], type(exc).__name__)
            return None
        self.remember(ref, name)
        return name
