"""What a handler returns, before a dialect renders it, and the Dialect protocol that renders it."""

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil
from typing import Any, Literal, Protocol

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, NotFound
from .records import PAGE_SIZE, Filter, Record, Rows


@dataclass(frozen=True)
class Listing:
    """A page of a list; the dialect fetches it (once, or once per partition) with `fetch`."""

    resource: str
    org: str
    number: int
    fetch: Callable[[Filter | None], Rows]


@dataclass(frozen=True)
class Shown:
    resource: str
    body: Record


@dataclass(frozen=True)
class Written:
    resource: str
    noun: str
    verb: Literal["created", "updated", "moved"]
    body: Record


@dataclass(frozen=True)
class Removed:
    noun: str


@dataclass(frozen=True)
class Raw:
    """A body both dialects answer as is (the board)."""

    body: Any


Reply = Listing | Shown | Written | Removed | Raw


class Dialect(Protocol):
    """Turns replies and failures into responses in one wire dialect."""

    def render(self, reply: Reply, request: Request) -> Response: ...

    def error(self, exc: ApiError) -> Response: ...


def last_page(count: int) -> int:
    return max(1, ceil(count / PAGE_SIZE))


def check_page(number: int, count: int) -> None:
    """A page past the end is a 404, as DRF's paginator answers."""
    if number > last_page(count):
        raise NotFound(detail="Invalid page.")
