"""One search run: slices read from a cursor on, rows checked, a bounded scan, an honest count.

A CRM that honours the query answers in one request. One that ignores a filter, the search or the order is found out
by the row checks; the scan then reads further slices, at most `Budget.pages` or `Budget.seconds`, and says how much
it read and whether it stopped early. A failure after the first slice ends the scan but keeps the rows it read, with
a cursor that goes on from there. The count is stated only when known (`found.py`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Generic, TypeVar

from lava_crm_mcp.crm.errors import CrmError, CrmNotFound
from lava_crm_mcp.crm.found import Found, tally, uncounted, unverified
from lava_crm_mcp.crm.models import Page, Record
from lava_crm_mcp.crm.paging import PAGE_SIZE
from lava_crm_mcp.crm.search import Budget, Cursor, Fetch, Plan, ordered, position

__all__ = ["Scan", "in_plan_order"]

R = TypeVar("R", bound=Record)


def in_plan_order(plan: Plan, rows: Sequence[Record]) -> bool:
    """Whether these rows already stand in the plan's order (missing values last either way)."""
    keys = [plan.key(row) for row in rows]
    if plan.sort is not None and plan.sort.descending:
        return all(a[0] <= b[0] and (a[0] or b[0] or a[1] >= b[1]) for a, b in pairwise(keys))
    return all(a <= b for a, b in pairwise(keys))


class _Stop(Exception):
    """The CRM failed on a slice after the first: the scan ends there, keeping what it read."""

    def __init__(self, start: int, error: CrmError) -> None:
        super().__init__(error.message)
        self.start, self.error = start, error


class Scan(Generic[R]):
    """One search run: reads slices from the cursor on, keeps matching rows, stops at the limit or the budget."""

    def __init__(self, fetch: Fetch[R], plan: Plan, limit: int, budget: Budget) -> None:
        self.fetch, self.plan, self.limit, self.budget = fetch, plan, limit, budget
        self.found: Found[R] = Found()
        self.started = time.monotonic()
        self.ignored: dict[str, None] = {}
        self.crm_total: int | None = None
        self.seen: set[str] = set()
        self.matched = 0
        """Matching rows among all rows read (more than returned when a slice held more than the limit)."""

    def spent(self) -> bool:
        return self.found.pages >= self.budget.pages or time.monotonic() - self.started >= self.budget.seconds

    async def page(self, start: int, narrow: bool) -> Page[R]:
        try:
            page = await self.fetch(start, self.plan.params(narrow))
        except CrmNotFound:
            if start == 0:
                raise
            page = Page[R](items=[], start=start)  # records were deleted since: the list ends earlier
        self.found.pages += 1
        self.found.scanned += len(page.items)
        return page

    async def read_on(self, start: int, narrow: bool) -> Page[R]:
        """The next slice; once something was read, a failure ends the scan (`_Stop`) instead of the search."""
        if not self.found.pages:
            return await self.page(start, narrow)  # nothing read yet: the failure is the answer
        try:
            return await self.page(start, narrow)
        except CrmError as error:
            raise _Stop(start, error) from error

    def repeats(self, page: Page[R]) -> bool:
        """Whether this slice only holds rows already read, or does not move on (then the walk stops, saying so)."""
        ids = [row.id for row in page.items]
        stuck = page.next_start is not None and page.next_start <= page.start
        if (ids and all(ident in self.seen for ident in ids)) or stuck:
            self.found.repeated = True
            return True
        self.seen.update(ids)
        return False

    def keep(self, rows: Sequence[R], narrow: bool) -> list[R]:
        """The rows that match; the arguments the CRM was sent but did not apply are noted as ignored."""
        for row in rows:
            self.ignored.update(dict.fromkeys(self.plan.failures(row, narrow=narrow)))
        kept = [row for row in rows if self.plan.matches(row)]
        self.matched += len(kept)
        return kept

    def stopped(self, stop: _Stop, shown: int, resume: Cursor) -> None:
        """A failure mid-scan: keep the rows, say where reading stopped and how to go on."""
        self.found.next = resume
        self.found.failure = (
            f"Reading stopped at row {stop.start + 1}: {stop.error.message.rstrip('.')}. The {shown} matching rows "
            "read before are kept; the cursor given goes on from there."
        )

    async def resume(self, cursor: Cursor, first: Page[R] | None) -> tuple[Page[R], int]:
        """The slice to go on from, and the row of it after the last one returned: that row is looked for by its id
        wherever records created or deleted above it moved it (this slice, else the one it was pushed into); when it
        is nowhere, the page goes on by position and says so."""
        page = first or await self.read_on(cursor.start, cursor.narrow)
        self.crm_total = page.total
        if cursor.after is None:
            return page, cursor.skip
        index = position(page.items, cursor.after)
        if index is not None:
            return page, index + 1
        change = page.total - cursor.total if page.total is not None and cursor.total is not None else 0
        near = page.next_start if change > 0 else max(0, cursor.start - PAGE_SIZE) if change < 0 else None
        if near is not None and near != cursor.start:
            neighbour = await self.read_on(near, cursor.narrow)
            index = position(neighbour.items, cursor.after)
            if index is not None:
                return neighbour, index + 1
        if change or cursor.skip:
            self.found.shifted = (
                "the list changed since the previous page and its last row is gone: this page goes on by position, "
                "so a row may repeat or be missed"
            )
        return page, cursor.skip

    async def in_order(self, cursor: Cursor, first: Page[R] | None) -> Found[R]:
        """Slices as the CRM orders them: stop once `limit` rows match (the usual path)."""
        page, skip = await self.resume(cursor, first)
        start = page.start
        try:
            while True:
                page = page or await self.read_on(start, cursor.narrow)
                if self.repeats(page):
                    return await self.finish(cursor, exhausted=False)
                for index, row in enumerate(page.items[skip:], start=skip):
                    if self.keep([row], cursor.narrow):
                        self.found.items.append(row)
                        if len(self.found.items) == self.limit:
                            self.matched += tally(page.items[index + 1 :], self.plan.matches)
                            self.found.next = self.after(index, page, cursor.narrow)
                            return await self.finish(cursor, exhausted=self.found.next is None)
                if page.next_start is None:
                    return await self.finish(cursor, exhausted=True)
                if self.spent():
                    self.found.next, self.found.stopped_early = Cursor(page.next_start, narrow=cursor.narrow), True
                    return await self.finish(cursor, exhausted=False)
                start, skip, page = page.next_start, 0, None
        except _Stop as stop:
            self.stopped(stop, len(self.found.items), Cursor(stop.start, narrow=cursor.narrow))
            return await self.finish(cursor, exhausted=False)

    async def sorted_here(self, cursor: Cursor) -> Found[R]:
        """The CRM ignores the order: read from the first slice (bounded), sort the matches here, cut."""
        rows: list[R] = []
        start: int | None = 0
        complete = False
        offset = cursor.offset or 0
        try:
            while start is not None:
                page = await self.read_on(start, cursor.narrow)
                if self.repeats(page):
                    break
                rows += self.keep(page.items, cursor.narrow)
                start = page.next_start
                complete = start is None
                if not complete and self.spent():
                    break
        except _Stop as stop:  # sorted among what was read; the same cursor reads them all again
            self.stopped(stop, len(rows), Cursor(offset=offset, narrow=cursor.narrow))
        ordered(rows, self.plan)
        offset = self.sorted_offset(cursor, rows, offset)
        self.found.items = rows[offset : offset + self.limit]
        more = offset + self.limit < len(rows)
        if not self.found.failure and more:
            last = self.found.items[-1]
            self.found.next = Cursor(offset=offset + self.limit, narrow=cursor.narrow).anchored(last, len(rows))
        self.found.sorted_here = True
        self.found.stopped_early = not complete and not self.found.repeated and not self.found.failure
        self.found.derived_order = self.plan.sort is not None and not self.plan.sort.sent
        self.found.total = len(rows) if complete else None
        self.found.at_least = None if complete else len(rows)
        self.found.ignored, self.found.local = list(self.ignored), self.plan.named_unsent()
        return self.found

    def sorted_offset(self, cursor: Cursor, rows: Sequence[R], offset: int) -> int:
        """Where a page of rows sorted here goes on: after the row the previous page ended with, wherever it is now."""
        if cursor.after is None:
            return offset
        index = position(rows, cursor.after)
        if index is not None:
            return index + 1
        if cursor.total is not None and cursor.total != len(rows):
            self.found.shifted = (
                "the list changed since the previous page and its last row is gone: this page goes on by position, "
                "so a row may repeat or be missed"
            )
        return offset

    @staticmethod
    def after(index: int, page: Page[R], narrow: bool) -> Cursor | None:
        """Where to continue after row `index` of this slice (the same slice, the next one, or nowhere), remembering
        that row."""
        if index + 1 < len(page.items):
            return Cursor(page.start, index + 1, narrow=narrow).anchored(page.items[index], page.total)
        if page.next_start is None:
            return None
        return Cursor(page.next_start, narrow=narrow).anchored(page.items[index], page.total)

    async def finish(self, cursor: Cursor, *, exhausted: bool) -> Found[R]:
        """Say what the CRM did not apply, and a total only when it is known: a count made here from a scan of every
        slice, or the CRM's count of exactly this query once its replies show that it applied every parameter."""
        found = self.found
        found.ignored, found.local = list(self.ignored), self.plan.named_unsent()
        from_start = cursor.start == 0 and cursor.skip == 0
        if not found.repeated and exhausted and from_start and found.next is None:
            found.total = len(found.items)
        elif not found.repeated and self.crm_total is not None and not cursor.narrow:
            found.total = await self.verified(self.crm_total, found)
        if found.total is None and from_start:
            found.at_least = self.matched
        return found

    async def verified(self, crm_total: int, found: Found[R]) -> int | None:
        """The CRM's count, when every parameter it was sent is shown to narrow its list; else None, saying why."""
        plan, unproven = self.plan, list[str]()
        if not self.ignored and plan.exact() and not found.failure:

            async def count(params: Mapping[str, str]) -> int | None:
                return (await self.fetch(0, params)).total

            unproven = await unverified(count, plan.params(False), crm_total, plan.conditions, plan.text)
            if not unproven:
                return crm_total
        found.uncounted = uncounted(crm_total, found.ignored, found.local, unproven)
        return None
