"""Fixtures for the CRM adapter tests: both routes, a respx router, and a fake credential to hunt for."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import respx
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream

BASE_URL = "https://lava-crm-api.fly.dev"
GATEWAY_URL = "https://api.lava.so/v1/forward"
SECRET = "sk_test_SECRET_123"
FAST = RetryPolicy(deadline=5.0, max_attempts=4, base_delay=0.001, max_delay=0.002)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def crm_api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def _upstream(route: str, secret: str = SECRET) -> Upstream:
    return Upstream(BASE_URL, SecretStr(secret), gateway_url=GATEWAY_URL if route == "gateway" else None)


def _client(router: respx.MockRouter, route: str, retry: RetryPolicy = FAST, secret: str = SECRET) -> CrmClient:
    # The router as the transport: no TLS context per client (fast), and still nothing can reach a host.
    return CrmClient(_upstream(route, secret), transport=httpx.MockTransport(router.async_handler), retry=retry)


@pytest.fixture
async def direct(crm_api: respx.MockRouter) -> AsyncIterator[CrmClient]:
    async with _client(crm_api, "direct") as client:
        yield client


@pytest.fixture
async def gateway(crm_api: respx.MockRouter) -> AsyncIterator[CrmClient]:
    async with _client(crm_api, "gateway") as client:
        yield client


@pytest.fixture(params=["direct", "gateway"])
def route(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def client(route: str, crm_api: respx.MockRouter) -> AsyncIterator[CrmClient]:
    """A client on either route (every test using it runs twice)."""
    async with _client(crm_api, route) as client:
        yield client


@pytest.fixture
async def make_client(route: str, crm_api: respx.MockRouter) -> AsyncIterator[Callable[..., CrmClient]]:
    """Build a client on the current route with its own retry policy (closed at teardown)."""
    async with AsyncExitStack() as stack:

        def build(retry: RetryPolicy = FAST, secret: str = SECRET) -> CrmClient:
            client = _client(crm_api, route, retry, secret)
            stack.push_async_callback(client.aclose)
            return client

        yield build


def _target(path: str, query: dict[str, Any] | None = None) -> str:
    suffix = f"?{urlencode(query, quote_via=quote)}" if query else ""
    return f"{BASE_URL}/api/{path}{suffix}"


@pytest.fixture
def sent_url(route: str) -> Callable[[str], str]:
    """The URL the current route must call for a direct CRM URL (the spec's `?u=` rule for the gateway)."""

    def wrap(target: str) -> str:
        return target if route == "direct" else f"{GATEWAY_URL}?u={quote(target, safe='')}"

    return wrap


@pytest.fixture
def target_of(route: str) -> Callable[[httpx.Request], str]:
    """The CRM URL a captured request was aimed at, whichever route carried it."""

    def unwrap(request: httpx.Request) -> str:
        if route == "direct":
            return str(request.url)
        assert str(request.url).startswith(f"{GATEWAY_URL}?u=")
        return request.url.params["u"]

    return unwrap


@pytest.fixture
def on(route: str, crm_api: respx.MockRouter) -> Callable[..., respx.Route]:
    """A respx route for `METHOD /api/<path>` (with an exact query when given) on the current route."""

    def add(method: str, path: str, query: dict[str, Any] | None = None) -> respx.Route:
        target = _target(path, query)
        if route == "direct":
            return crm_api.route(method=method, url__regex=f"^{re.escape(target)}$")
        return crm_api.route(method=method, url=GATEWAY_URL, params={"u": target})

    return add
