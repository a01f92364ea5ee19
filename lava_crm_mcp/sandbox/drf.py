"""The "drf" dialect: bare objects, the count/next/previous/results envelope, DRF error bodies."""

import re
from collections.abc import Mapping
from math import ceil
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .board import Card, Column, Layout, stage_body
from .errors import ApiError, Invalid, NotFound, Unauthorized
from .records import Rows, Window
from .replies import Listing, Removed, Reply, Scope, Shown, Written

PAGE_SIZE = 20
PAGE = re.compile(r"[0-9]{1,9}")


def page_number(query: Mapping[str, str]) -> int:
    """A 1-based page; anything else (incl. non-ASCII digits, absurdly large numbers) is DRF's 404 "Invalid page."."""
    raw = query.get("page", "1").strip()
    if not PAGE.fullmatch(raw) or int(raw) < 1:
        raise NotFound(detail="Invalid page.")
    return int(raw)


def last_page(count: int) -> int:
    return max(1, ceil(count / PAGE_SIZE))


def envelope(rows: Rows, number: int, request: Request) -> dict[str, Any]:
    """The DRF page envelope with absolute next/previous links built from the request URL."""
    if number > last_page(rows.count):
        raise NotFound(detail="Invalid page.")
    url = request.url
    following = str(url.include_query_params(page=number + 1)) if number < last_page(rows.count) else None
    previous = None
    if number == 2:
        previous = str(url.remove_query_params("page"))
    elif number > 2:
        previous = str(url.include_query_params(page=number - 1))
    return {"count": rows.count, "next": following, "previous": previous, "results": rows.items}


def _card(card: Card, closed: bool) -> dict[str, Any]:
    fields = {key: card.data.get(key) for key in ("name", "amount", "currency", "account")}
    return {"id": card.id, **fields, "is_closed": closed, "position": card.position}


def _stage(column: Column) -> dict[str, Any]:
    deals = [_card(card, column.stage.stage_type != "open") for card in column.cards]
    return {**stage_body(column.stage, len(deals)), "deals": deals}


class Drf:
    """Renders replies the way the seed page and the contract §2 describe."""

    def window(self, query: Mapping[str, str]) -> Window:
        return Window(PAGE_SIZE, (page_number(query) - 1) * PAGE_SIZE)

    def accept(self, path: str, body: dict[str, object]) -> dict[str, object]:
        return body

    def render(self, reply: Reply, request: Request, scope: Scope) -> Response:
        match reply:
            case Listing(window=window, fetch=fetch):
                return JSONResponse(envelope(fetch(None), window.offset // PAGE_SIZE + 1, request))
            case Shown(body=body):
                return JSONResponse(body)
            case Layout(pipeline=pipeline, columns=columns):
                return JSONResponse({"pipeline": pipeline, "stages": [_stage(column) for column in columns]})
            case Written(verb=verb, body=body):
                return JSONResponse(body, status_code=201 if verb == "created" else 200)
            case Removed():
                return Response(status_code=204)

    def error(self, exc: ApiError) -> Response:
        body = exc.errors if isinstance(exc, Invalid) else {"detail": exc.detail}
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if isinstance(exc, Unauthorized) else None
        return JSONResponse(body, status_code=exc.status, headers=headers)
