"""The "django-crm" dialect: limit/offset slices of keyed lists, wrapped details, write acknowledgements."""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import newer
from .board import Layout
from .catalog import COUNTRIES
from .errors import ApiError, Invalid, NotFound, Unauthorized
from .records import Filter, Rows, Window
from .replies import Listing, Removed, Reply, Scope, Shown, Written

LIMIT = 10
INTEGER = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True)
class Keyed:
    """`{count_key: n, items_key: [...], "offset": next}`."""

    count_key: str
    items_key: str


@dataclass(frozen=True)
class Section:
    """One partition of a split list: `{outer: {count_key: n, items_key: [...], "offset": next}}`."""

    outer: str
    items_key: str
    count_key: str


@dataclass(frozen=True)
class Split:
    """Two partitions by a closed-status filter, each sliced by the same limit and offset."""

    closed: Filter
    open: Section
    close: Section


@dataclass(frozen=True)
class Counted:
    """`{"count": n, "results": [...]}`: no next link and no offset (the newer contacts list)."""


@dataclass(frozen=True)
class Linked:
    """The DRF envelope, its next/previous links carrying `limit` and `offset`."""


LAYOUTS: dict[str, Keyed | Split | Counted | Linked] = {
    "contacts": Counted(),
    "accounts": Split(
        Filter("status", ("close",)),
        Section("active_accounts", "open_accounts", "open_accounts_count"),
        Section("closed_accounts", "close_accounts", "close_accounts_count"),
    ),
    "leads": Split(
        Filter("status", ("closed", "converted")),
        Section("open_leads", "open_leads", "leads_count"),
        Section("close_leads", "close_leads", "leads_count"),
    ),
    "opportunities": Keyed("opportunities_count", "opportunities"),
    "tasks": Keyed("tasks_count", "tasks"),
    "cases": Keyed("cases_count", "cases"),
    "invoices": Linked(),
    "pipelines": Keyed("pipelines_count", "pipelines"),
}
UNCATALOGUED = frozenset({"invoices", "pipelines"})
DETAIL_KEYS = {
    "contacts": "contact_obj",
    "accounts": "account_obj",
    "leads": "lead_obj",
    "opportunities": "opportunity_obj",
    "tasks": "task_obj",
    "cases": "cases_obj",
    "invoices": "invoice",
}
ALIASES: Mapping[str, Mapping[str, str]] = {
    "contacts": {"email": "primary_email", "phone": "mobile_number", "account_id": "account"},
    "opportunities": {"account_id": "account"},
    "tasks": {"account_id": "account"},
    "cases": {"account_id": "account"},
    "invoices": {"total_amount": "amount", "account_id": "account", "contact_id": "contact"},
}
"""Write fields of the newer era -> the seed's names (a body giving both keeps the seed's)."""
NO_ID_ON_CREATE = frozenset({"leads", "tasks"})
VERBS = {"created": "created Successfuly", "updated": "Updated Successfully", "moved": "Moved Successfully"}
COUNTRY_LIST = [[code, name] for code, name in COUNTRIES.items()]


def _integer(raw: str, default: int, least: int) -> int:
    """A query integer (blank: `default`); ValueError with the message otherwise."""
    if not raw:
        return default
    if not INTEGER.fullmatch(raw):
        raise ValueError("A valid integer is required.")
    if int(raw) < least:
        raise ValueError(f"Ensure this value is greater than or equal to {least}.")
    return int(raw)


def _next(rows: Rows, window: Window) -> int | None:
    following = window.offset + window.limit
    return following if following < rows.count else None


def _catalogues(org: str) -> dict[str, Any]:
    user = str(uuid.uuid5(uuid.NAMESPACE_URL, f"lava-crm-sandbox/{org}/user"))
    return {"countries": COUNTRY_LIST, "users": [{"id": user, "email": "owner@sandbox.test"}]}


def _linked(rows: Rows, window: Window, request: Request) -> dict[str, Any]:
    url, limit, offset = request.url.remove_query_params("page"), window.limit, window.offset
    following = _next(rows, window)
    return {
        "count": rows.count,
        "next": None if following is None else str(url.include_query_params(limit=limit, offset=following)),
        "previous": str(url.include_query_params(limit=limit, offset=max(0, offset - limit))) if offset else None,
        "results": rows.items,
    }


def _split(layout: Split, listing: Listing, scope: Scope) -> dict[str, Any]:
    open_filter = Filter(layout.closed.field, layout.closed.values, negate=True)
    body: dict[str, Any] = {}
    for section, where in ((layout.open, open_filter), (layout.close, layout.closed)):
        rows = listing.fetch(where)
        items = newer.show(listing.resource, rows.items, scope)
        body[section.outer] = {
            section.count_key: rows.count,
            section.items_key: items,
            "offset": _next(rows, listing.window),
        }
    return body


def _listing(listing: Listing, request: Request, scope: Scope) -> dict[str, Any]:
    layout, window = LAYOUTS[listing.resource], listing.window
    if isinstance(layout, Split):
        body = _split(layout, listing, scope)
    else:
        fetched = listing.fetch(None)
        rows = Rows(fetched.count, newer.show(listing.resource, fetched.items, scope))
        match layout:
            case Keyed(count_key=count_key, items_key=items_key):
                body = {count_key: rows.count, items_key: rows.items, "offset": _next(rows, window)}
            case Counted():
                body = {"count": rows.count, "results": rows.items}
            case Linked():
                body = _linked(rows, window, request)
    return body if listing.resource in UNCATALOGUED else {**body, **_catalogues(scope.org)}


def _written(reply: Written, scope: Scope) -> Response:
    body: dict[str, Any] = {"error": False, "message": f"{reply.noun} {VERBS[reply.verb]}"}
    if reply.verb == "created" and reply.resource == "invoices":
        return JSONResponse({**body, "invoice": newer.show(reply.resource, [reply.body], scope)[0]}, status_code=201)
    if not (reply.verb == "created" and reply.resource in NO_ID_ON_CREATE):
        body["id"] = reply.body["id"]
    return JSONResponse(body)


class DjangoCrm:
    """Renders replies the way the upstream django-crm views answer (contract §5 and §6)."""

    def window(self, query: Mapping[str, str]) -> Window:
        """`limit` (default 10, no maximum) and `offset` (default 0); `page` means nothing here."""
        values: dict[str, int] = {}
        errors: dict[str, list[str]] = {}
        for name, default, least in (("limit", LIMIT, 1), ("offset", 0, 0)):
            try:
                values[name] = _integer(query.get(name, "").strip(), default, least)
            except ValueError as exc:
                errors[name] = [str(exc)]
        if errors:
            raise Invalid(errors)
        return Window(**values)

    def accept(self, path: str, body: dict[str, object]) -> dict[str, object]:
        aliases = ALIASES.get(path.split("/")[2], {})
        renamed = {aliases[key]: value for key, value in body.items() if key in aliases and aliases[key] not in body}
        return {**{key: value for key, value in body.items() if key not in aliases}, **renamed}

    def render(self, reply: Reply, request: Request, scope: Scope) -> Response:
        match reply:
            case Listing():
                return JSONResponse(_listing(reply, request, scope))
            case Shown(resource=resource, body=body):
                shown = newer.show(resource, [body], scope)[0]
                return JSONResponse({DETAIL_KEYS[resource]: shown, "comments": [], "attachments": []})
            case Layout():
                return JSONResponse(newer.kanban(reply, scope))
            case Written():
                return _written(reply, scope)
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
