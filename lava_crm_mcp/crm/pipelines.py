"""Deal pipelines: boards, custom stages, and moving deals — the only way a deal changes stage."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from lava_crm_mcp.crm import inputs
from lava_crm_mcp.crm.background import Background
from lava_crm_mcp.crm.board import Columns, read_columns
from lava_crm_mcp.crm.envelopes import Ack, read_record, read_write
from lava_crm_mcp.crm.errors import CrmInvalid, CrmNotFound, CrmProtocolError
from lava_crm_mcp.crm.ids import check_id, validate_body
from lava_crm_mcp.crm.models import Board, Opportunity, Pipeline, Stage, StageMove
from lava_crm_mcp.crm.paging import Slice, slice_params
from lava_crm_mcp.crm.placement import place
from lava_crm_mcp.crm.records import Records, Send
from lava_crm_mcp.crm.seats import Seats
from lava_crm_mcp.crm.stages import find_pipeline, locate_stage, locate_unplaced

__all__ = ["Pipelines"]

Deals = Records[Opportunity, inputs.OpportunityCreate, inputs.OpportunityUpdate]
T = TypeVar("T")
logger = logging.getLogger("lava_crm_mcp.crm")
MAX_PIPELINE_PAGES = 10
CATALOG_TTL = 30.0
CATALOG_STALE = 270.0  # past its TTL, the catalog is served once more while it is read again behind the call
MAX_SCOPES = 1_000


class _Name(inputs.Body):
    name: inputs.Text


class _Move(inputs.Body):
    stage_id: inputs.Id
    above_id: inputs.Id | None = None
    below_id: inputs.Id | None = None


class Pipelines:
    """The /api/deal-pipelines/ routes, plus stage lookup by name inside a deal's own pipeline.

    `catalog()` is the pipeline list cached for a few seconds per credential (stage names and types change rarely);
    every pipeline or stage write through this adapter drops it. Stale-while-revalidate: up to CATALOG_TTL seconds
    after its read the catalog is used as is; up to CATALOG_STALE seconds more it is used once more while it is read
    again behind the call, so no call waits for it; older, it is read before the answer. A name it does not know is
    always looked up afresh (`resolved`). `seats` places deals whose records do not say where they sit, from the
    boards (`seats.py`).
    """

    def __init__(
        self,
        send: Send,
        deals: Deals,
        cache: dict[str, Any] | None = None,
        scope: str = "",
        seats: dict[str, Any] | None = None,
        background: Background | None = None,
    ) -> None:
        self._send = send
        self._deals = deals
        self._cache: dict[str, Any] = {} if cache is None else cache
        self._scope = scope
        self._background = background
        self.ttl, self.stale = CATALOG_TTL, CATALOG_STALE
        self.seats = Seats(self.catalog, self.columns, {} if seats is None else seats, scope)

    async def catalog(self) -> list[Pipeline]:
        """The pipelines with their stages, from a short-lived cache when fresh enough."""
        cached = self._cache.get(self._scope)
        age = time.monotonic() - cached[0] if cached is not None else None
        if cached is not None and age is not None and age < self.ttl:
            return list(cached[1])
        if cached is not None and age is not None and age < self.ttl + self.stale and self._refresh(cached):
            return list(cached[1])
        return await self.list()

    def _refresh(self, seen: Any) -> bool:
        """Read the catalog again behind the call; it replaces `seen` only if no write dropped it meanwhile."""
        if self._background is None:
            return False

        async def again() -> None:
            pipelines = await self._read_all()
            if self._cache.get(self._scope) is seen:
                self._remember(pipelines)

        return self._background.refresh(("pipelines", self._scope), again)

    def _changed(self) -> None:
        self._cache.pop(self._scope, None)

    async def list(self) -> list[Pipeline]:
        """The pipelines with their stages, read now (and remembered for `catalog()`)."""
        pipelines = await self._read_all()
        self._remember(pipelines)
        return pipelines

    def _remember(self, pipelines: list[Pipeline]) -> None:
        self._cache.pop(self._scope, None)
        while len(self._cache) >= MAX_SCOPES:  # one entry per credential seen (passthrough): keep it bounded
            self._cache.pop(next(iter(self._cache)))
        self._cache[self._scope] = (time.monotonic(), tuple(pipelines))

    async def fresh_if(self, stale: Callable[[list[Pipeline]], bool]) -> list[Pipeline]:
        """The catalog, re-read when `stale(catalog)` says it lacks something (e.g. a stage id it does not know)."""
        pipelines = await self.catalog()
        return await self.list() if stale(pipelines) else pipelines

    async def _read_all(self) -> list[Pipeline]:
        """Every pipeline, slice by slice as the reply says; a slice that repeats one already read ends the walk."""
        pipelines: dict[str, Pipeline] = {}
        start: int | None = 0
        for _ in range(MAX_PIPELINE_PAGES):
            if start is None:
                break
            body = await self._send("GET", "deal-pipelines/", what="the pipeline list", params=slice_params(start))
            found = Slice.read(body, start, list_paths=(("pipelines",),))
            fresh = [read_record(item, Pipeline, what="a pipeline") for item in found.rows]
            if fresh and all(pipeline.id in pipelines for pipeline in fresh):
                logger.warning("the pipeline list repeated a slice (its paging ignores what we send); stopped there")
                break
            pipelines |= {pipeline.id: pipeline for pipeline in fresh}
            start = found.next_start
        return list(pipelines.values())

    async def create(self, name: str) -> Pipeline:
        self._changed()
        body = validate_body(_Name, {"name": name}, "pipeline")
        answer = read_write(
            await self._send("POST", "deal-pipelines/", what=f"the new pipeline {name!r}", json=body.model_dump())
        )
        if isinstance(answer, Ack):
            return await self._find_pipeline(answer.id, name)
        return read_record(answer, Pipeline, what="the new pipeline")

    async def board(self, pipeline_id: str | None = None) -> Board:
        """The board with every card as a model."""
        return read_record(await self._board(pipeline_id), Board, detail_keys=("board",), what="the board")

    async def columns(self, pipeline_id: str | None = None) -> Columns:
        """The board for summaries: column headers as models, cards validated only when asked for."""
        return read_columns(await self._board(pipeline_id))

    async def _board(self, pipeline_id: str | None) -> Any:
        params = {"pipeline_id": check_id(pipeline_id, "pipeline_id") if pipeline_id else None}
        what = f"pipeline {pipeline_id!r}" if pipeline_id else "the default pipeline"
        return await self._send("GET", "deal-pipelines/board/", what=what, params=params)

    async def add_stage(self, pipeline_id: str, name: str) -> Stage:
        self._changed()
        path = f"deal-pipelines/{check_id(pipeline_id, 'pipeline_id')}/stages/"
        body = validate_body(_Name, {"name": name}, "stage")
        answer = await self._send(
            "POST", path, what=f"the new stage {name!r} in pipeline {pipeline_id!r}", json=body.model_dump()
        )
        return await self._stage_from(answer, name)

    async def rename_stage(self, stage_id: str, name: str) -> Stage:
        self._changed()
        path = f"deal-pipelines/stages/{check_id(stage_id, 'stage_id')}/"
        body = validate_body(_Name, {"name": name}, "stage")
        answer = await self._send("PUT", path, what=f"stage {stage_id!r}", json=body.model_dump())
        return await self._stage_from(answer, name, stage_id)

    async def delete_stage(self, stage_id: str) -> None:
        path = f"deal-pipelines/stages/{check_id(stage_id, 'stage_id')}/"
        self._changed()
        await self._send("DELETE", path, what=f"stage {stage_id!r}")
        self._changed()

    async def move_deal(
        self, deal_id: str, stage_id: str, *, above_id: str | None = None, below_id: str | None = None
    ) -> Opportunity:
        """Move a deal to a stage id from a board; optionally just above/below another deal there."""
        path = f"deal-pipelines/deals/{check_id(deal_id, 'deal_id')}/move/"
        data = {"stage_id": stage_id, "above_id": above_id, "below_id": below_id}
        body = validate_body(_Move, data, "move").model_dump(exclude_none=True)
        answer = read_write(await self._send("PATCH", path, what=f"deal {deal_id!r}", json=body))
        self._seated(deal_id, stage_id)
        moved = None if isinstance(answer, Ack) else _deal_in(answer, deal_id)
        if moved is None:  # an acknowledgement, or a card or stage that is not this deal: read the deal itself
            return await self._deals.get(deal_id)
        await self.seats.fill([moved])
        return moved

    def _seated(self, deal_id: str, stage_id: str) -> None:
        """Keep the cached seats in step with a move just made, from the cached catalog (nothing is read; a stage it
        does not hold drops the seats, to be read afresh when next needed)."""
        cached = self._cache.get(self._scope)
        found = [(p, s) for p in (cached[1] if cached else ()) for s in p.stages if s.id == stage_id]
        if found:
            self.seats.moved(deal_id, *found[0])
        else:
            self.seats.forget()

    async def move_deal_to_stage(
        self,
        deal_id: str,
        stage: str,
        *,
        pipeline: str | None = None,
        above_id: str | None = None,
        below_id: str | None = None,
    ) -> StageMove:
        """Resolve `stage` (an id or name in the deal's own pipeline, or in `pipeline` when named), move the deal,
        report from → to. A stage of another pipeline is refused unless `pipeline` names it."""
        if above_id and below_id:
            raise CrmInvalid(
                "Pass above_deal_id or below_deal_id, not both: the deal goes just above one deal or just below one.",
                fields={"below_id": ["Not together with above_id."]},
            )
        deal = await self._deals.get(deal_id)

        def resolve(pipelines: list[Pipeline]) -> tuple[Stage | None, Pipeline, Stage]:
            where = place(deal, pipelines)
            if where.pipeline is None and pipeline is None:  # where it sits is unknown: never guess the default
                return (None, *locate_unplaced(pipelines, stage, deal.id))
            return (where.stage, *locate_stage(pipelines, stage, pipeline=pipeline, home=where.pipeline))

        current, target_pipeline, target = await self.resolved(resolve)
        moved = await self.move_deal(deal.id, target.id, above_id=above_id, below_id=below_id)
        return StageMove(deal=moved, pipeline=target_pipeline, from_stage=current, to_stage=target, before=deal)

    async def locate(self, stage: str, pipeline: str | None = None) -> tuple[Pipeline, Stage]:
        """A stage by id (any pipeline) or by name (in `pipeline`, default: the default pipeline)."""

        def resolve(pipelines: list[Pipeline]) -> tuple[Pipeline, Stage]:
            by_id = [(p, s) for p in pipelines for s in p.stages if s.id == stage.strip() and pipeline is None]
            return by_id[0] if by_id else locate_stage(pipelines, stage, pipeline=pipeline)

        return await self.resolved(resolve)

    async def find(self, pipeline: str) -> Pipeline:
        """A pipeline by id or name."""
        return await self.resolved(lambda pipelines: find_pipeline(pipelines, pipeline))

    async def resolved(self, resolve: Callable[[list[Pipeline]], T]) -> T:
        """`resolve(catalog)`; when it finds nothing, once more on a fresh read (the cache may predate a change)."""
        try:
            return resolve(await self.catalog())
        except CrmNotFound:
            return resolve(await self.list())

    async def _find_pipeline(self, pipeline_id: str | None, name: str) -> Pipeline:
        for pipeline in await self.list():
            if pipeline.id == pipeline_id or (pipeline_id is None and pipeline.name == name):
                return pipeline
        raise CrmProtocolError(f"The CRM acknowledged pipeline {name!r} but it is not in the pipeline list.")

    async def _stage_from(self, body: Any, name: str, stage_id: str | None = None) -> Stage:
        answer = read_write(body)
        if not isinstance(answer, Ack):
            return read_record(answer, Stage, what="the stage")
        wanted = answer.id or stage_id
        for pipeline in await self.list():
            for stage in pipeline.stages:
                if stage.id == wanted or (wanted is None and stage.name == name):
                    return stage
        raise CrmProtocolError(f"The CRM acknowledged stage {name!r} but it is on no pipeline.")


def _deal_in(answer: dict[str, Any], deal_id: str) -> Opportunity | None:
    """The moved deal, when the move's answer is that deal (checked by its id); else None."""
    try:
        deal = read_record(
            answer, Opportunity, detail_keys=("opportunity_obj",), what=f"deal {deal_id!r}", lenient=True
        )
    except CrmProtocolError:
        return None
    return deal if deal.id == deal_id else None
