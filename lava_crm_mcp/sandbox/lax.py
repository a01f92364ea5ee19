"""The lax sandbox: either dialect, answering as the laxest server of the family does.

- Lists ignore `search`, every filter and `ordering`: each is the whole list, in its usual order.
- Deals carry no `pipeline`, `pipeline_stage` or `is_closed`: only the board says where a deal sits.
- The pipeline list names its stages `{code, label, kind}` (an older serializer); the board is unchanged.
- Unknown routes, a wrong method, a body too large and a crash answer with an HTML page, as a framework does.
- Writes are read in the newer era's names only: a contact's `email` and `phone`, an invoice's `account_id`,
  `contact_id` and `total_amount` (the seed's `primary_email`, `account`, … are ignored, as DRF ignores unknown
  fields), and an invoice is not created without `account_id` and `contact_id`.
"""

from collections.abc import Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .errors import ApiError, Invalid, NotAllowed, TooLarge
from .records import Filter, Record, Rows, Window
from .replies import Dialect, Listing, Reply, Scope, Shown, Written

__all__ = ["Lax"]

KEPT_PARAMS = frozenset({"page", "limit", "offset", "pipeline_id"})
PLACEMENT = ("pipeline", "pipeline_stage", "is_closed")
NEWER_NAMES: Mapping[str, Mapping[str, str]] = {
    "contacts": {"email": "primary_email", "phone": "mobile_number"},
    "invoices": {"account_id": "account", "contact_id": "contact", "total_amount": "amount"},
}
"""Write names of the newer era -> the seed's names, which this server does not read."""
REQUIRED_ON_CREATE: Mapping[str, tuple[str, ...]] = {"invoices": ("account_id", "contact_id")}
TITLES = {404: "Not Found", 405: "Method Not Allowed", 413: "Request Entity Too Large", 500: "Server Error"}


def _stage(stage: Record) -> Record:
    """A stage as the older serializer names it."""
    shown = {"code": stage["id"], "label": stage["name"], "kind": stage["stage_type"]}
    return {**shown, **{key: value for key, value in stage.items() if key not in ("id", "name", "stage_type")}}


def _pipeline(pipeline: Record) -> Record:
    return {**pipeline, "stages": [_stage(stage) for stage in pipeline.get("stages", [])]}


SHOWN: Mapping[str, Callable[[Record], Record]] = {
    "opportunities": lambda deal: {key: value for key, value in deal.items() if key not in PLACEMENT},
    "pipelines": _pipeline,
    "stages": _stage,
}


def _listing(reply: Listing, show: Callable[[Record], Record]) -> Listing:
    def fetch(where: Filter | None) -> Rows:
        rows = reply.fetch(where)
        return Rows(rows.count, [show(item) for item in rows.items])

    return Listing(reply.resource, reply.window, fetch)


def _html(status: int, detail: str) -> Response:
    title = TITLES.get(status, "Error")
    page = (
        f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1><p>{detail}</p></body></html>"
    )
    return HTMLResponse(page, status_code=status)


class Lax:
    """Wraps a dialect: what it reads of a request is narrowed, and what it answers is made laxer."""

    def __init__(self, inner: Dialect) -> None:
        self.inner = inner

    def query(self, params: Mapping[str, str]) -> Mapping[str, str]:
        """Only the paging of a list (and the board's pipeline) is read."""
        return {key: value for key, value in params.items() if key in KEPT_PARAMS}

    def window(self, query: Mapping[str, str]) -> Window:
        return self.inner.window(query)

    def accept(self, path: str, body: dict[str, object]) -> dict[str, object]:
        resource = path.split("/")[2]
        names = NEWER_NAMES.get(resource, {})
        if path == f"/api/{resource}/" and body:  # a create (a list's GET has no body)
            missing = [name for name in REQUIRED_ON_CREATE.get(resource, ()) if body.get(name) in (None, "")]
            if missing:
                raise Invalid({name: ["This field is required."] for name in missing})
        read = {names.get(key, key): value for key, value in body.items() if key not in names.values()}
        return self.inner.accept(path, read)

    def render(self, reply: Reply, request: Request, scope: Scope) -> Response:
        match reply:
            case Listing(resource=resource) if resource in SHOWN:
                reply = _listing(reply, SHOWN[resource])
            case Shown(resource=resource, body=body) if resource in SHOWN:
                reply = Shown(resource, SHOWN[resource](body))
            case Written(resource=resource, noun=noun, verb=verb, body=body) if resource in SHOWN:
                reply = Written(resource, noun, verb, SHOWN[resource](body))
            case _:
                pass
        return self.inner.render(reply, request, scope)

    def error(self, exc: ApiError) -> Response:
        if isinstance(exc, NotAllowed | TooLarge):
            return _html(exc.status, exc.detail)
        return self.inner.error(exc)

    def page(self, exc: Exception) -> Response | None:
        """An HTML page for an unknown route or a crash; None for anything the dialect answers."""
        if isinstance(exc, HTTPException) and exc.status_code == 404:
            return _html(404, "The requested resource was not found on this server.")
        if isinstance(exc, ApiError | HTTPException):
            return None
        return _html(500, "")
