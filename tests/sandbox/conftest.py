"""Fixtures of the sandbox tests: an anyio backend and clients bound to in-process sandbox apps."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app

BASE = "http://sandbox.test"
Connect = Callable[..., httpx.AsyncClient]
Create = Callable[..., Awaitable[dict[str, Any]]]


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
