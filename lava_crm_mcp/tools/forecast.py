"""The forecast on a board: each open deal's value weighted by its probability, and the closing window.

Board cards carry a deal's amount; some CRMs' cards also carry its probability and expected close date (the
Django-CRM kanban does). When they do not, the open deals of the pipeline are read in one bounded search (never one
read per deal), and a forecast that could not see every open deal says how many it saw. The same read gives each
open deal's last update, unless the cards carry `updated_at` too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.crm.board import Column, Columns
from lava_crm_mcp.crm.filters import field_value

__all__ = ["Facts", "deal_facts"]

READ = 200  # open deals read for their probability and expected close when the cards lack them


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") and not isinstance(value, bool) else None
    except InvalidOperation:
        return None


def _day(value: Any) -> str | None:
    return str(value)[:10] if value not in (None, "") else None


@dataclass(frozen=True)
class Facts:
    """Each open deal's probability, expected close date and last update, by deal id, and whether every open deal
    was seen."""

    probability: Mapping[str, Decimal | None]
    closing: Mapping[str, str | None]
    complete: bool
    updated: Mapping[str, str | None]
    updates_complete: bool = True
    """Every open deal's last update was seen (the cards' probabilities may be complete while this is not)."""

    def within(self, column: Column, start: dt.date | None, end: dt.date | None) -> Column:
        """The column with only the deals expected to close in the window (all of them when there is none)."""
        if start is None and end is None:
            return column
        low, high = (start or dt.date.min).isoformat(), (end or dt.date.max).isoformat()
        kept = [card for card in column.raw if low <= (self.closing.get(str(card["id"])) or "") <= high]
        return Column(column.stage.model_copy(update={"deal_count": None}), kept)

    def weighted(self, columns: Sequence[Column]) -> dict[str, Decimal]:
        """Per currency, the sum of amount × probability of the deals whose probability is known."""
        sums: dict[str, Decimal] = {}
        for card in (card for column in columns for card in column.raw):
            amount, chance = _number(card.get("amount")), self.probability.get(str(card["id"]))
            if amount is not None and chance is not None:
                currency = str(card.get("currency") or "?")
                sums[currency] = sums.get(currency, Decimal(0)) + amount * chance / 100
        return dict(sorted(sums.items()))

    def note(self, columns: Sequence[Column], window: tuple[dt.date | None, dt.date | None]) -> str | None:
        cards = [str(card["id"]) for column in columns for card in column.raw]
        unknown = sum(1 for ident in cards if self.probability.get(ident) is None)
        notes: list[str] = []
        if any(window):
            span = f"{window[0] or '…'} to {window[1] or '…'}"
            notes.append(f"open stages show deals expected to close {span}; undated ones are left out")
        if unknown:
            notes.append(f"{unknown} open deal(s) without a known probability are not in the weighted value")
        if not self.complete:
            notes.append(f"probabilities and update dates read for the first {READ} open deals only")
        elif not self.updates_complete:
            notes.append(f"update dates read for the first {READ} open deals only")
        return "; ".join(notes) or None


def _open_cards(board: Columns) -> list[dict[str, Any]]:
    return [card for column in board.columns if column.stage.stage_type == "open" for card in column.raw]


def _from_cards(board: Columns) -> Facts | None:
    """The facts from the cards themselves, when every open card carries a probability."""
    cards = _open_cards(board)
    if not all("probability" in card for card in cards):
        return None
    probability = {str(card["id"]): _number(card.get("probability")) for card in cards}
    closing = {str(card["id"]): _day(card.get("closed_on")) for card in cards}
    return Facts(probability, closing, True, _updated(board))


def _updated(board: Columns) -> dict[str, str | None]:
    """The last update of every deal whose card says it."""
    cards = (card for column in board.columns for card in column.raw)
    return {str(card["id"]): _day(card["updated_at"]) for card in cards if card.get("updated_at")}


async def deal_facts(crm: CrmClient, board: Columns) -> Facts:
    """Each open deal's probability, expected close and last update: from the cards when they carry them, else
    from one bounded read of the pipeline's open deals (which cards that carry a probability but no update date
    still need, for when each deal last changed)."""
    found = _from_cards(board)
    if found is not None and all(str(card["id"]) in found.updated for card in _open_cards(board)):
        return found
    deals = await crm.search("opportunities", filters={"pipeline": board.pipeline.id, "status": "open"}, limit=READ)
    whole = deals.next is None and not deals.stopped_early
    updated = _updated(board) | {deal.id: _day(field_value(deal, "updated_at")) for deal in deals.items}
    if found is not None:
        return replace(found, updated=updated, updates_complete=whole)
    probability = {deal.id: _number(field_value(deal, "probability")) for deal in deals.items}
    closing = {deal.id: _day(field_value(deal, "closed_on")) for deal in deals.items}
    return Facts(probability, closing, whole, updated)
