"""A board read for summaries: every column's size and value from the raw cards, and only the cards shown validated.

A pipeline with 10,000 deals answers a ~2 MB board; validating each card as a model costs more than reading it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from lava_crm_mcp.crm.envelopes import read_record
from lava_crm_mcp.crm.errors import CrmProtocolError
from lava_crm_mcp.crm.models import CARD_KEYS, DealCard, PipelineRef, Stage

__all__ = ["Column", "Columns", "read_columns"]


def _amount(card: Mapping[str, Any]) -> Decimal | None:
    raw = card.get("amount")
    try:
        return Decimal(str(raw)) if raw not in (None, "") and not isinstance(raw, bool) else None
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Column:
    """One stage of a board: its header, and its cards as the CRM sent them."""

    stage: Stage
    raw: list[dict[str, Any]]

    @property
    def count(self) -> int:
        """Deals in the column (the CRM's count when it says more than the cards it sent)."""
        return max(self.stage.deal_count or 0, len(self.raw))

    def cards(self, start: int, stop: int) -> list[DealCard]:
        return [read_record(card, DealCard, what="a deal card", lenient=True) for card in self.raw[start:stop]]

    def value(self) -> dict[str, Decimal]:
        """The sum of the amounts of all its cards, per currency."""
        sums: dict[str, Decimal] = {}
        for card in self.raw:
            amount = _amount(card)
            if amount is not None:
                currency = str(card.get("currency") or "?")
                sums[currency] = sums.get(currency, Decimal(0)) + amount
        return dict(sorted(sums.items()))


@dataclass(frozen=True)
class Columns:
    pipeline: PipelineRef
    columns: list[Column]


def _cards(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [card for card in cast(list[Any], value) if isinstance(card, dict) and "id" in card]


def _cards_of(stage: dict[str, Any]) -> list[dict[str, Any]]:
    return _cards(next((stage[key] for key in CARD_KEYS if key in stage), None))


def read_columns(body: Any) -> Columns:
    """The pipeline and its columns from a board body (bare, or wrapped under `board`): stages under `stages` or
    `columns`, deals under `deals`, `items` or `cards`; anything else is reported with the keys found."""
    outer: dict[str, Any] = cast(dict[str, Any], body) if isinstance(body, dict) else {}
    data = cast(dict[str, Any], outer.get("board", outer))
    listed: Any = next((data[key] for key in ("stages", "columns") if isinstance(data.get(key), list)), None)
    if listed is None:
        found = sorted(data.keys())[:8] if data else "no JSON object"
        raise CrmProtocolError(f"The CRM answered the board request without stages or columns (found: {found}).")
    pipeline = read_record(data.get("pipeline"), PipelineRef, what="the board's pipeline")
    stages = [cast(dict[str, Any], stage) for stage in cast(list[Any], listed) if isinstance(stage, dict)]
    columns = [
        Column(
            read_record({k: v for k, v in stage.items() if k not in CARD_KEYS}, Stage, what="a board stage"),
            _cards_of(stage),
        )
        for stage in stages
    ]
    return Columns(pipeline, columns)
