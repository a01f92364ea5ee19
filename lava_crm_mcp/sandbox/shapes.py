"""Pydantic models of the deal-pipeline bodies and of the envelopes every dialect-drf answer uses."""

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, RootModel

from .fields import Name, NullableRef, RequiredRef
from .models import Body

StageType = Literal["open", "won", "lost"]
Item = TypeVar("Item", bound=BaseModel)


class NameBody(Body):
    """Body of pipeline create and stage add/rename."""

    name: Name


class MoveBody(Body):
    """Body of a deal move: the target stage, and optionally the deal to sit just above or below."""

    stage_id: RequiredRef
    above_id: NullableRef = None
    """Place the moved deal just above this deal of the target stage."""
    below_id: NullableRef = None
    """Place the moved deal just below this deal of the target stage."""


class Stage(BaseModel):
    id: str
    name: str
    stage_type: StageType
    order: int
    deal_count: int


class Pipeline(BaseModel):
    id: str
    name: str
    is_default: bool
    stages: list[Stage]


class DealCard(BaseModel):
    id: str
    name: str
    amount: str | None
    currency: str
    account: str | None
    is_closed: bool
    position: int


class BoardStage(Stage):
    deals: list[DealCard]


class BoardPipeline(BaseModel):
    id: str
    name: str
    is_default: bool


class Board(BaseModel):
    pipeline: BoardPipeline
    stages: list[BoardStage]


class Page(BaseModel, Generic[Item]):
    """The list envelope: 20 results a page, newest first."""

    count: int
    next: str | None
    previous: str | None
    results: list[Item]


class Detail(BaseModel):
    detail: str


class FieldErrors(RootModel[dict[str, list[str]]]):
    """Validation failure: each field maps to its messages."""
