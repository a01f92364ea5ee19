"""Fixtures of the sandbox tests: an anyio backend and clients bound to in-process sandbox apps."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.sandbox.app import Dialect

BASE = "http://sandbox.test"
Connect = Callable[..., httpx.AsyncClient]
Create = Callable[..., Awaitable[dict[str, Any]]]
Newest = Callable[[Starlette, str], str]
Made = Callable[[httpx.AsyncClient, Starlette, str, dict[str, Any]], Awaitable[str]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _client_for(app: Starlette, token: str | None = SANDBOX_TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)


@pytest.fixture
def connect() -> Connect:
    """`connect(app, token)`: a client of `app` sending `token` (None: no Authorization header)."""
    return _client_for


@pytest.fixture(params=["drf", "django-crm"])
def dialect(request: pytest.FixtureRequest) -> Dialect:
    """Each dialect the sandbox speaks: a test using it runs once per dialect."""
    return request.param


@pytest.fixture
def sandbox(dialect: Dialect) -> Iterator[Starlette]:
    """A fresh in-memory sandbox app speaking `dialect`, in open mode (each token is its own org)."""
    app = create_app(dialect=dialect, open_mode=True)
    yield app
    app.state.sandbox.close()


@pytest.fixture
def field_errors(dialect: Dialect) -> Callable[[httpx.Response], dict[str, list[str]]]:
    """`field_errors(response)`: a 400's field -> messages, out of the dialect's error envelope."""

    def read(response: httpx.Response) -> dict[str, list[str]]:
        assert response.status_code == 400, response.text
        body = response.json()
        return body["errors"] if dialect == "django-crm" else body

    return read


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh in-memory drf sandbox, authenticated with the default token."""
    app = create_app()
    async with _client_for(app) as client:
        yield client
    app.state.sandbox.close()


@pytest.fixture
async def crm() -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh in-memory sandbox speaking the django-crm dialect."""
    app = create_app(dialect="django-crm")
    async with _client_for(app) as client:
        yield client
    app.state.sandbox.close()


async def _create(client: httpx.AsyncClient, resource: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/{resource}/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def create() -> Create:
    """`await create(client, "contacts", first_name=...)`: POST and return the 201 body."""
    return _create


def _newest(app: Starlette, kind: str) -> str:
    sql = "SELECT id FROM records WHERE kind = ? ORDER BY seq DESC LIMIT 1"
    return app.state.sandbox.conn.execute(sql, (kind,)).fetchone()[0]


async def _made(client: httpx.AsyncClient, app: Starlette, kind: str, body: dict[str, Any]) -> str:
    response = await client.post(f"/api/{kind}/", json=body)
    assert response.status_code in {200, 201}, response.text
    return _newest(app, kind)


@pytest.fixture
def newest() -> Newest:
    """`newest(app, kind)`: the id of the record of `kind` created last, read from the database."""
    return _newest


@pytest.fixture
def made() -> Made:
    """`await made(client, app, kind, body)`: POST in either dialect and return the new id (django-crm acks of
    leads and tasks carry none)."""
    return _made


MINIMAL: dict[str, dict[str, Any]] = {
    "contacts": {"first_name": "Ada", "last_name": "Lovelace"},
    "accounts": {"name": "Analytical Engines Ltd"},
    "leads": {"title": "Fleet pilot"},
    "opportunities": {"name": "Platform expansion"},
    "tasks": {"title": "Send proposal"},
    "cases": {"name": "Export times out"},
    "invoices": {"invoice_title": "Starter plan"},
}


@pytest.fixture
def minimal() -> dict[str, dict[str, Any]]:
    """The smallest valid create body of each resource."""
    return {name: dict(body) for name, body in MINIMAL.items()}
