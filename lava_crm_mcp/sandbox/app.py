"""create_app: the Starlette application, its route table, auth, body limits and error translation."""

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from functools import cache
from typing import Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import demo
from .auth import Tokens
from .db import connect, transaction
from .djangocrm import DjangoCrm
from .drf import Drf
from .errors import ApiError, BadRequest, Invalid, NotAllowed, NotFound, TooLarge
from .handlers import ROUTES, Ctx, Handler
from .lax import Lax
from .openapi import document
from .replies import Dialect as DialectRenderer
from .replies import Scope
from .service import Service

Dialect = Literal["drf", "django-crm"]
MAX_BODY = 1024 * 1024
Endpoint = Callable[[Request], Awaitable[Response]]


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _decode(raw: bytes) -> dict[str, object]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"JSON parse error - {exc}") from None
    if not isinstance(data, dict):
        kind = type(data).__name__  # pyright: ignore[reportUnknownArgumentType]
        raise Invalid({"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]})
    return data  # pyright: ignore[reportUnknownVariableType]


async def read_body(request: Request) -> dict[str, object]:
    """The JSON object of the body, refusing anything over 1 MiB before and while reading it."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise TooLarge("Request body exceeds the 1 MiB limit.")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise TooLarge("Request body exceeds the 1 MiB limit.")
    return _decode(bytes(raw))


class Sandbox:
    """The state behind one app: the connection, tokens, dialect and which orgs are provisioned."""

    def __init__(
        self,
        db: str | os.PathLike[str],
        tokens: Tokens,
        dialect: Dialect,
        seed: str | None,
        today: date | None,
        lax: bool = False,
    ) -> None:
        self.conn = connect(db)
        self.service = Service(self.conn)
        with transaction(self.conn):
            self.service.records.null_blank_refs()
        self.tokens = tokens
        inner: DialectRenderer = Drf() if dialect == "drf" else DjangoCrm()
        self.lax = Lax(inner) if lax else None
        self.dialect: DialectRenderer = self.lax or inner
        self.seed, self.today = seed, today
        self._ready: set[str] = set()

    def org(self, request: Request) -> str:
        org = self.tokens.org(request.headers.get("authorization"))
        if org not in self._ready:
            self.provision(org)
        return org

    def provision(self, org: str) -> None:
        """First use of an org: its row, its default pipeline, and the demo data if asked (all once)."""
        with transaction(self.conn):
            self.conn.execute("INSERT OR IGNORE INTO orgs (key) VALUES (?)", (org,))
            self.service.boards.provision(org)
            (seeded,) = self.conn.execute("SELECT seeded FROM orgs WHERE key = ?", (org,)).fetchone()
            if self.seed == "demo" and not seeded:
                demo.seed(self.service, org, today=self.today)
                self.conn.execute("UPDATE orgs SET seeded = 1 WHERE key = ?", (org,))
        self._ready.add(org)

    def endpoint(self, path: str, handlers: Mapping[str, Handler]) -> Endpoint:
        async def run(request: Request) -> Response:
            handler = handlers[request.method if request.method != "HEAD" else "GET"]
            org = self.org(request)
            body = await read_body(request) if request.method in {"POST", "PUT", "PATCH"} else {}
            body = self.dialect.accept(path, body)
            query = self.lax.query(request.query_params) if self.lax else request.query_params
            with transaction(self.conn):
                ctx = Ctx(self.service, org, request.path_params, query, body, self.dialect.window)
                return self.dialect.render(handler(ctx), request, Scope(org, self.service.records))

        return run

    async def on_error(self, request: Request, exc: Exception) -> Response:
        if self.lax is not None and (page := self.lax.page(exc)) is not None:
            return page
        if isinstance(exc, ApiError):
            return self.dialect.error(exc)
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            response = self.dialect.error(NotAllowed(request.method))
            response.headers.update(exc.headers or {})
            return response
        if isinstance(exc, HTTPException) and exc.status_code == 404:
            return self.dialect.error(NotFound())
        detail = exc.detail if isinstance(exc, HTTPException) else "Internal server error."
        error = ApiError(detail)
        error.status = exc.status_code if isinstance(exc, HTTPException) else 500
        return self.dialect.error(error)

    def close(self) -> None:
        self.conn.close()


@cache
def _openapi() -> bytes:
    """The OpenAPI document, rendered once per process (building it costs more than the rest of an app)."""
    return bytes(JSONResponse(document()).body)


def _routes(sandbox: Sandbox) -> list[Route]:
    grouped: dict[str, dict[str, Handler]] = {}
    for path, method, handler in ROUTES:
        grouped.setdefault(path, {})[method] = handler

    async def serve_openapi(_request: Request) -> Response:
        return Response(_openapi(), media_type="application/json")

    return [
        Route("/api/openapi.json", serve_openapi, methods=["GET"]),
        *(Route(path, sandbox.endpoint(path, handlers), methods=list(handlers)) for path, handlers in grouped.items()),
    ]


def create_app(
    db: str | os.PathLike[str] = ":memory:",
    *,
    tokens: Mapping[str, str] | None = None,
    open_mode: bool = False,
    dialect: Dialect = "drf",
    seed: Literal["demo"] | None = None,
    today: date | None = None,
    lax: bool = False,
) -> Starlette:
    """A Lava-CRM-compatible API over sqlite (schema created here, synchronously); state on `app.state.sandbox`.

    Paths are strict about the contract's trailing slash: `/api/contacts` (no slash) is a 404, not a redirect.
    The demo seed dates its tasks and invoices relative to `today` (default: the UTC date when an org is seeded).
    `lax` answers as the laxest server of the family (`lax.py`): filters ignored, deals without their placement,
    HTML error pages, the newer era's write names only.
    """
    sandbox = Sandbox(db, Tokens(tokens, open_mode=open_mode), dialect, seed, today, lax)
    handlers = dict.fromkeys((ApiError, HTTPException, Exception), sandbox.on_error)
    app = Starlette(routes=_routes(sandbox), exception_handlers=handlers)
    app.router.redirect_slashes = False
    app.state.sandbox = sandbox
    return app
