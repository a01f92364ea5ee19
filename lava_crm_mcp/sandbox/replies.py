"""What a handler returns, before a dialect renders it, and the Dialect protocol that renders it."""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from starlette.requests import Request
from starlette.responses import Response

from .board import Layout
from .errors import ApiError
from .records import Filter, Record, Records, Rows, Window


@dataclass(frozen=True)
class Listing:
    """A slice of a list; the dialect fetches it (once, or once per partition) with `fetch`."""

    resource: str
    window: Window
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


Reply = Listing | Shown | Written | Removed | Layout


@dataclass(frozen=True)
class Scope:
    """The org a request acts for, and its records by id (for dialects that show references inline)."""

    org: str
    records: Records

    def related(self, kind: str, ids: Collection[str]) -> dict[str, Record]:
        return self.records.some(kind, self.org, ids) if ids else {}


class Dialect(Protocol):
    """One wire dialect: how lists are sliced, which write fields it accepts, and how it answers."""

    def window(self, query: Mapping[str, str]) -> Window: ...

    def accept(self, path: str, body: dict[str, object]) -> dict[str, object]:
        """The write body in the seed's field names (`path` is the route's, e.g. `/api/contacts/{id}/`)."""
        ...

    def render(self, reply: Reply, request: Request, scope: Scope) -> Response: ...

    def error(self, exc: ApiError) -> Response: ...
