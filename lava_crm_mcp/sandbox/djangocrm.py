"""The "django-crm" dialect: keyed lists with offsets and catalogues, wrapped details, write acknowledgements."""

import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .catalog import COUNTRIES
from .drf import envelope
from .errors import ApiError, Invalid, NotFound, Unauthorized
from .records import PAGE_SIZE, Filter, Rows
from .replies import Listing, Raw, Removed, Reply, Shown, Written, check_page, last_page


@dataclass(frozen=True)
class Keyed:
    """`{count_key: n, items_key: [...], "offset": next}`."""

    count_key: str
    items_key: str


@dataclass(frozen=True)
class Split:
    """Two partitions by a closed-status filter, each `{outer: {count_key?, inner: [...], "offset"}}`."""

    closed: Filter
    open_keys: tuple[str, str]
    closed_keys: tuple[str, str]
    count_key: str | None = None


LAYOUTS: dict[str, Keyed | Split] = {
    "contacts": Keyed("contacts_count", "contact_obj_list"),
    "accounts": Split(
        Filter("status", ("close",)), ("active_accounts", "open_accounts"), ("closed_accounts", "close_accounts")
    ),
    "leads": Split(
        Filter("status", ("closed", "converted")),
        ("open_leads", "open_leads"),
        ("close_leads", "close_leads"),
        "leads_count",
    ),
    "opportunities": Keyed("opportunities_count", "opportunities"),
    "tasks": Keyed("tasks_count", "tasks"),
    "cases": Keyed("cases_count", "cases"),
    "pipelines": Keyed("pipelines_count", "pipelines"),
}
DETAIL_KEYS = {
    "contacts": "contact_obj",
    "accounts": "account_obj",
    "leads": "lead_obj",
    "opportunities": "opportunity_obj",
    "tasks": "task_obj",
    "cases": "cases_obj",
    "invoices": "invoice",
}
NO_ID_ON_CREATE = frozenset({"leads", "tasks"})
VERBS = {"created": "created Successfuly", "updated": "Updated Successfully", "moved": "Moved Successfully"}
COUNTRY_LIST = [[code, name] for code, name in COUNTRIES.items()]


def _offset(rows: Rows, number: int) -> int | None:
    return number * PAGE_SIZE if number < last_page(rows.count) else None


def _catalogues(org: str) -> dict[str, Any]:
    user = str(uuid.uuid5(uuid.NAMESPACE_URL, f"lava-crm-sandbox/{org}/user"))
    return {"countries": COUNTRY_LIST, "users": [{"id": user, "email": "owner@sandbox.test"}]}


def _keyed(layout: Keyed, listing: Listing) -> dict[str, Any]:
    rows = listing.fetch(None)
    check_page(listing.number, rows.count)
    return {layout.count_key: rows.count, layout.items_key: rows.items, "offset": _offset(rows, listing.number)}


def _split(layout: Split, listing: Listing) -> dict[str, Any]:
    open_filter = Filter(layout.closed.field, layout.closed.values, negate=True)
    parts = {
        keys: listing.fetch(where)
        for keys, where in ((layout.open_keys, open_filter), (layout.closed_keys, layout.closed))
    }
    check_page(listing.number, max(rows.count for rows in parts.values()))
    body: dict[str, Any] = {}
    for (outer, inner), rows in parts.items():
        counted = {layout.count_key: rows.count} if layout.count_key else {}
        body[outer] = {**counted, inner: rows.items, "offset": _offset(rows, listing.number)}
    return body


def _listing(listing: Listing, request: Request) -> dict[str, Any]:
    layout = LAYOUTS.get(listing.resource)
    if layout is None:
        return envelope(listing.fetch(None), listing.number, request)
    body = _keyed(layout, listing) if isinstance(layout, Keyed) else _split(layout, listing)
    return body if listing.resource == "pipelines" else {**body, **_catalogues(listing.org)}


def _written(reply: Written) -> dict[str, Any]:
    body: dict[str, Any] = {"error": False, "message": f"{reply.noun} {VERBS[reply.verb]}"}
    if not (reply.verb == "created" and reply.resource in NO_ID_ON_CREATE):
        body["id"] = reply.body["id"]
    return body


class DjangoCrm:
    """Renders replies the way the upstream django-crm views answer (contract §5)."""

    def render(self, reply: Reply, request: Request) -> Response:
        match reply:
            case Listing():
                return JSONResponse(_listing(reply, request))
            case Shown(resource=resource, body=body):
                return JSONResponse({DETAIL_KEYS[resource]: body, "comments": [], "attachments": []})
            case Raw(body=body):
                return JSONResponse(body)
            case Written():
                return JSONResponse(_written(reply))
            case Removed(noun=noun):
                return JSONResponse({"error": False, "message": f"{noun} Deleted Successfully"})

    def error(self, exc: ApiError) -> Response:
        if isinstance(exc, Unauthorized):
            return JSONResponse({"detail": "Authentication credentials were not provided."}, status_code=403)
        errors: Any = exc.detail
        if isinstance(exc, Invalid):
            errors = exc.errors
        elif isinstance(exc, NotFound) and exc.noun:
            errors = f"{exc.noun} not found."
        return JSONResponse({"error": True, "errors": errors}, status_code=exc.status)
