"""The bounded pipeline board: per stage its deal count and value per currency, and the first deals in column order.

A board of 10,000 deals stays under 3,000 tokens: each column shows at most `limit` deals and the exact call that
pages through that one column.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import anyio
from pydantic import BaseModel, Field

from lava_crm_mcp.crm import CrmClient, CrmNotFound
from lava_crm_mcp.crm.activity import ActivityIndex, read_activity
from lava_crm_mcp.crm.board import Column, Columns
from lava_crm_mcp.crm.client import ACTIVITY_READ
from lava_crm_mcp.crm.models import DealCard, PipelineRef
from lava_crm_mcp.crm.names import Ref
from lava_crm_mcp.crm.stages import find_pipeline, find_stage
from lava_crm_mcp.tools._shared import Lookup, PipelineArg, ToolArgs, ToolFailure, next_call
from lava_crm_mcp.tools.forecast import Facts, deal_facts
from lava_crm_mcp.tools.render import Link, Result, one_line, values_line
from lava_crm_mcp.tools.views import CELL_TEXT

__all__ = ["BoardArgs", "BoardResult", "read_board"]

DEFAULT_SHOWN = 8


class BoardArgs(ToolArgs):
    pipeline: PipelineArg = None
    stage: Annotated[Lookup | None, Field(description="Show only this stage (id or name).")] = None
    offset: Annotated[int, Field(ge=0, le=1_000_000, description="With stage: deals of the column to skip.")] = 0
    limit: Annotated[int, Field(ge=1, le=50, description="Deals shown per stage (default 8).")] = DEFAULT_SHOWN
    closing_from: Annotated[
        dt.date | None, Field(description="Open stages: deals expected to close from this day.")
    ] = None
    closing_to: Annotated[dt.date | None, Field(description="… and up to this day.")] = None


class BoardDeal(BaseModel):
    id: str
    name: str | None = None
    amount: str | None = None
    currency: str | None = None
    account: Link | None = None
    updated: str | None = None
    """The deal's last update, when the cards or the read of open deals said it."""
    last_activity: str | None = None
    """Its newest activity or timeline entry among those read (the board's note says when not all were)."""
    idle_days: int | None = None
    """Days since the later of the two (open deals)."""


class BoardStage(BaseModel):
    """One column: its size, value and (open stages) probability-weighted value over ALL its deals (in the closing
    window, when one is given), and the deals shown."""

    id: str
    name: str
    stage_type: str
    deal_count: int
    value: dict[str, str]
    weighted: dict[str, str] | None = None
    deals: list[BoardDeal]
    more: str | None = None


class BoardResult(Result):
    pipeline: PipelineRef
    deal_count: int
    open_value: dict[str, str]
    weighted_value: dict[str, str]
    stages: list[BoardStage]
    note: str | None = None

    def render(self) -> str:
        default = ", default" if self.pipeline.is_default else ""
        head = f"{one_line(self.pipeline.name)} (pipeline {self.pipeline.id}{default}): {self.deal_count} deals"
        forecast = f"; open value {_money(self.open_value)}" if self.open_value else ""
        forecast += f", weighted {_money(self.weighted_value)}" if self.weighted_value else ""
        idle = any(deal.idle_days is not None for stage in self.stages for deal in stage.deals)
        legend = "; idle: days since a deal's last update or activity" if idle else ""
        lines = [head + forecast + (f" ({self.note})" if self.note else "") + legend]
        for stage in self.stages:
            kind = "" if stage.stage_type == "open" else f" ({stage.stage_type})"
            value = f", {_money(stage.value)}" if stage.value else ""
            value += f" (weighted {_money(stage.weighted)})" if stage.weighted else ""
            lines.append(f"{stage.id} | {one_line(stage.name)}{kind}: {stage.deal_count} deals{value}")
            lines += [f"  {values_line(_deal_cells(deal))}" for deal in stage.deals]
            if stage.more:
                lines.append(f"  more: {stage.more}")
        return "\n".join(lines)


def _deal_cells(deal: BoardDeal) -> list[Any]:
    amount = f"{deal.amount} {deal.currency or ''}".strip() if deal.amount else None
    idle = [f"idle {deal.idle_days} d"] if deal.idle_days is not None else []
    return [deal.id, deal.name, amount, deal.account, *idle]


def _money(value: dict[str, str]) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in value.items())


def _shown(value: dict[str, Decimal]) -> dict[str, str]:
    return {currency: f"{total:.2f}" for currency, total in value.items()}


def _total(columns: list[Column]) -> dict[str, str]:
    sums: dict[str, Decimal] = {}
    for column in columns:
        for currency, amount in column.value().items():
            sums[currency] = sums.get(currency, Decimal(0)) + amount
    return _shown(dict(sorted(sums.items())))


async def _pipeline_id(crm: CrmClient, a: BoardArgs) -> str | None:
    """The pipeline asked for by id or name; else the one holding `stage` when that is a stage id; else default."""
    if a.pipeline:
        try:
            return find_pipeline(await crm.pipelines.catalog(), a.pipeline).id
        except CrmNotFound:  # newer than the cached catalog?
            return find_pipeline(await crm.pipelines.list(), a.pipeline).id
    if a.stage:
        for pipeline in await crm.pipelines.catalog():
            if any(stage.id == a.stage for stage in pipeline.stages):
                return pipeline.id
    return None


def _chosen(columns: list[Column], a: BoardArgs, pipeline: PipelineRef) -> list[Column]:
    if a.stage is None:
        if a.offset:
            raise ToolFailure("offset pages through one stage: pass stage (its id or name) as well.")
        return columns
    chosen = find_stage([column.stage for column in columns], a.stage, pipeline_name=pipeline.name)
    return [column for column in columns if column.stage.id == chosen.id]


def _more(column: Column, a: BoardArgs, pipeline: PipelineRef) -> str | None:
    """The call for the next deals of this column, by names (they are unique in a pipeline, and short)."""
    end = a.offset + a.limit
    if end >= len(column.raw):
        return None
    arguments = {} if pipeline.is_default else {"pipeline": pipeline.name}
    arguments |= {"stage": column.stage.name, "offset": end} | ({"limit": a.limit} if a.limit != DEFAULT_SHOWN else {})
    return next_call("get_pipeline_board", arguments)


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= CELL_TEXT else text[: CELL_TEXT - 1] + "…"


def _today(crm: CrmClient, column: Column) -> dt.date | None:
    return crm.today() if column.stage.stage_type == "open" else None


def _idle(today: dt.date, updated: str | None, activity: dt.date | None) -> int | None:
    days = [day for day in (dt.date.fromisoformat(updated) if updated else None, activity) if day is not None]
    return (today - max(days)).days if days else None


def _deal(
    card: DealCard, names: dict[Ref, str | None], facts: Facts, activity: ActivityIndex, today: dt.date | None
) -> BoardDeal:
    """A card as shown; `today` for a card of an open stage (its idle days), None for a closed one."""
    account = Link(id=card.account, name=_cut(names.get(("accounts", card.account)))) if card.account else None
    last, updated = activity.on("opportunities", card.id), facts.updated.get(card.id)
    return BoardDeal(
        id=card.id,
        name=_cut(card.name),
        amount=card.amount,
        currency=card.currency,
        account=account,
        updated=updated,
        last_activity=last.isoformat() if last else None,
        idle_days=_idle(today, updated, last) if today else None,
    )


async def _facts_and_activity(crm: CrmClient, board: Columns) -> tuple[Facts, ActivityIndex]:
    """The open deals' facts and the org's newest activities, read side by side (one bounded read each)."""
    activity: list[ActivityIndex] = []

    async def read() -> None:
        activity.append(await read_activity(crm.search, None, ACTIVITY_READ))

    facts: list[Facts] = []
    async with anyio.create_task_group() as group:
        group.start_soon(read)
        facts.append(await deal_facts(crm, board))
    return facts[0], activity[0]


def _note(facts: Facts, activity: ActivityIndex, columns: list[Column], window: tuple[Any, Any]) -> str | None:
    notes = [facts.note(columns, window), None if activity.complete else activity.note()]
    return "; ".join(note for note in notes if note) or None


async def read_board(crm: CrmClient, a: BoardArgs) -> BoardResult:
    """Read the board once, summarise every column (weighted by each open deal's probability, within the closing
    window when one is given), and name the accounts of the deals shown, with when each was last updated and last
    had activity."""
    board = await crm.pipelines.columns(await _pipeline_id(crm, a))
    facts, activity = await _facts_and_activity(crm, board)
    window = (a.closing_from, a.closing_to)
    every = [facts.within(column, *window) if column.stage.stage_type == "open" else column for column in board.columns]
    columns = _chosen(every, a, board.pipeline)
    shown = {column.stage.id: column.cards(a.offset, a.offset + a.limit) for column in columns}
    cards = [card for deals in shown.values() for card in deals]
    names = await crm.names([("accounts", card.account) for card in cards if card.account], known=cards)
    stages = [
        BoardStage(
            id=column.stage.id,
            name=column.stage.name,
            stage_type=column.stage.stage_type,
            deal_count=column.count,
            value=_shown(column.value()),
            weighted=_shown(facts.weighted([column])) if column.stage.stage_type == "open" else None,
            deals=[_deal(card, names, facts, activity, _today(crm, column)) for card in shown[column.stage.id]],
            more=_more(column, a, board.pipeline),
        )
        for column in columns
    ]
    open_columns = [column for column in every if column.stage.stage_type == "open"]
    return BoardResult(
        pipeline=board.pipeline,
        deal_count=sum(column.count for column in every),
        open_value=_total(open_columns),
        weighted_value=_shown(facts.weighted(open_columns)),
        stages=stages,
        note=_note(facts, activity, open_columns, window),
    )
