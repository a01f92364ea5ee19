"""The "drf" dialect: bare objects, the count/next/previous/results envelope, DRF error bodies."""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiError, Invalid, Unauthorized
from .records import Rows
from .replies import Listing, Raw, Removed, Reply, Shown, Written, check_page, last_page


def envelope(rows: Rows, number: int, request: Request) -> dict[str, Any]:
    """The DRF page envelope with absolute next/previous links built from the request URL."""
    check_page(number, rows.count)
    url = request.url
    following = str(url.include_query_params(page=number + 1)) if number < last_page(rows.count) else None
    previous = None
    if number == 2:
        previous = str(url.remove_query_params("page"))
    elif number > 2:
        previous = str(url.include_query_params(page=number - 1))
    return {"count": rows.count, "next": following, "previous": previous, "results": rows.items}


class Drf:
    """Renders replies the way the seed page and the contract §2 describe."""

    def render(self, reply: Reply, request: Request) -> Response:
        match reply:
            case Listing(number=number, fetch=fetch):
                return JSONResponse(envelope(fetch(None), number, request))
            case Shown(body=body) | Raw(body=body):
                return JSONResponse(body)
            case Written(verb=verb, body=body):
                return JSONResponse(body, status_code=201 if verb == "created" else 200)
            case Removed():
                return Response(status_code=204)

    def error(self, exc: ApiError) -> Response:
        body = exc.errors if isinstance(exc, Invalid) else {"detail": exc.detail}
        headers = {"WWW-Authenticate": 'Bearer realm="api"'} if isinstance(exc, Unauthorized) else None
        return JSONResponse(body, status_code=exc.status, headers=headers)
