"""Where deals sit when their records do not say: every board read once, and kept briefly per credential.

Neither era of the Django-CRM family has to put `pipeline`, `pipeline_stage` or `is_closed` on a deal; then only the
boards know where it sits. A deal read without them is placed from the boards: each pipeline's board read side by
side, once, and kept `SEATS_TTL` seconds under the credential's fingerprint (a move through this adapter updates
the entry; a new deal drops it, so the next read finds it). The legacy `stage` enum is never used for this.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from lava_crm_mcp.crm.board import Columns
from lava_crm_mcp.crm.models import Opportunity, Pipeline, Stage

__all__ = ["SEATS_TTL", "Seat", "Seats"]

SEATS_TTL = 15.0
MAX_SCOPES = 1_000
PARALLEL = 4  # boards read at once


@dataclass(frozen=True)
class Seat:
    """A deal's place on the boards: its pipeline, stage, and whether that stage closes it."""

    pipeline: str
    stage: str
    closed: bool


class Seats:
    """The deals' seats of one credential, from a short-lived cache shared by every view of the client."""

    def __init__(
        self,
        catalog: Callable[[], Awaitable[list[Pipeline]]],
        columns: Callable[[str], Awaitable[Columns]],
        cache: dict[str, Any],
        scope: str,
    ) -> None:
        self._catalog, self._columns, self._cache, self._scope = catalog, columns, cache, scope
        self._lock = anyio.Lock()

    async def fill(self, deals: Sequence[Opportunity]) -> None:
        """Give deals whose records lack their stage the pipeline, stage and closed flag the boards show."""
        unplaced = [deal for deal in deals if not deal.pipeline_stage]
        if not unplaced:
            return
        seats = await self.seats()
        for deal in unplaced:
            seat = seats.get(deal.id)
            if seat is not None:
                deal.pipeline, deal.pipeline_stage = seat.pipeline, seat.stage
                deal.is_closed = seat.closed if deal.is_closed is None else deal.is_closed

    async def seats(self) -> dict[str, Seat]:
        """Deal id -> seat, from the cache while fresh, else from every board (one read at a time per view)."""
        async with self._lock:
            cached = self._cache.get(self._scope)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            seats = await self._read()
            self._cache.pop(self._scope, None)
            while len(self._cache) >= MAX_SCOPES:  # one entry per credential seen (passthrough): keep it bounded
                self._cache.pop(next(iter(self._cache)))
            self._cache[self._scope] = (time.monotonic() + SEATS_TTL, seats)
            return seats

    def moved(self, deal_id: str, pipeline: Pipeline, stage: Stage) -> None:
        """A move this adapter made: the cached seat follows it (nothing is read)."""
        cached = self._cache.get(self._scope)
        if cached is not None:
            cached[1][deal_id] = Seat(pipeline.id, stage.id, stage.is_terminal)

    def forget(self) -> None:
        """Drop the cached seats (a deal was created: the next read must find it)."""
        self._cache.pop(self._scope, None)

    async def _read(self) -> dict[str, Seat]:
        pipelines = await self._catalog()
        boards: dict[str, Columns] = {}
        limiter = anyio.CapacityLimiter(PARALLEL)

        async def one(pipeline_id: str) -> None:
            async with limiter:
                boards[pipeline_id] = await self._columns(pipeline_id)

        async with anyio.create_task_group() as group:
            for pipeline in pipelines:
                group.start_soon(one, pipeline.id)
        seats: dict[str, Seat] = {}
        for pipeline_id, board in boards.items():
            for column in board.columns:
                for card in column.raw:
                    seats[str(card["id"])] = Seat(pipeline_id, column.stage.id, column.stage.is_terminal)
        return seats
