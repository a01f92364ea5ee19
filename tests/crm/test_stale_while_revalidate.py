"""The names cache and the pipeline catalog are stale-while-revalidate: an entry past its time-to-live is served once
more at once and read again behind the call; past the stale window it is read before the answer; a write through
the adapter is never overwritten by a refresh that started before it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.crm.client import Shared
from lava_crm_mcp.crm.names import NameCache
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app

BASE = "http://sandbox.test"
AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}


class Counting(httpx.AsyncBaseTransport):
    """The sandbox, with every path it was asked for; while `gate` is set, answers to the pipeline list are read but
    held back until it is opened (`held` counts those waiting)."""

    def __init__(self, app: Starlette) -> None:
        self.inner, self.paths = httpx.ASGITransport(app=app), list[str]()
        self.gate: anyio.Event | None = None
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        response = await self.inner.handle_async_request(request)
        if self.gate is not None and request.url.path == "/api/deal-pipelines/":
            self.held += 1
            await self.gate.wait()
        return response


@pytest.fixture
def sandbox() -> Iterator[Starlette]:
    app = create_app(seed="demo")
    yield app
    app.state.sandbox.close()


@pytest.fixture
def wire(sandbox: Starlette) -> Counting:
    return Counting(sandbox)


@pytest.fixture
async def crm(wire: Counting) -> AsyncIterator[CrmClient]:
    """A client whose names and catalog are stale as soon as they are read (TTL 0), inside a long stale window."""
    shared = Shared(names=NameCache(ttl=0.0, stale=3600.0))
    async with CrmClient(
        Upstream(BASE, SecretStr(SANDBOX_TOKEN)), transport=wire, retry=RetryPolicy(max_attempts=1), shared=shared
    ) as client:
        client.pipelines.ttl, client.pipelines.stale = 0.0, 3600.0
        yield client


async def _elsewhere(sandbox: Starlette, method: str, path: str, body: dict[str, Any]) -> None:
    """A change made by someone else: straight to the CRM, not through the adapter."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox), base_url=BASE, headers=AUTH) as raw:
        (await raw.request(method, path, json=body)).raise_for_status()


@pytest.mark.anyio
async def test_a_stale_catalog_is_served_once_and_refreshed_behind_the_call(
    crm: CrmClient, wire: Counting, sandbox: Starlette
) -> None:
    first = await crm.pipelines.catalog()
    stage = first[0].stages[0]
    await _elsewhere(sandbox, "PUT", f"/api/deal-pipelines/stages/{stage.id}/", {"name": "Renamed elsewhere"})
    reads = wire.paths.count("/api/deal-pipelines/")

    served = await crm.pipelines.catalog()

    assert served[0].stages[0].name == stage.name  # the stale catalog, at once
    await crm.shared.background.settled()
    assert wire.paths.count("/api/deal-pipelines/") == reads + 1  # read again behind the call
    assert (await crm.pipelines.catalog())[0].stages[0].name == "Renamed elsewhere"


@pytest.mark.anyio
async def test_past_the_stale_window_the_catalog_is_read_before_the_answer(
    crm: CrmClient, wire: Counting, sandbox: Starlette
) -> None:
    crm.pipelines.stale = 0.0
    stage = (await crm.pipelines.catalog())[0].stages[0]
    await _elsewhere(sandbox, "PUT", f"/api/deal-pipelines/stages/{stage.id}/", {"name": "Renamed elsewhere"})

    assert (await crm.pipelines.catalog())[0].stages[0].name == "Renamed elsewhere"


@pytest.mark.anyio
async def test_a_refresh_started_before_a_write_does_not_overwrite_it(crm: CrmClient, wire: Counting) -> None:
    pipeline = (await crm.pipelines.catalog())[0]
    wire.gate = anyio.Event()
    await crm.pipelines.catalog()  # stale: a refresh starts behind the call, and reads the catalog before the write
    for _ in range(1000):
        if wire.held:
            break
        await anyio.lowlevel.checkpoint()
    assert wire.held == 1
    added = await crm.pipelines.add_stage(pipeline.id, "Added here")  # drops the catalog; the refresh is older
    wire.gate.set()
    await crm.shared.background.settled()

    names = [stage.name for stage in (await crm.pipelines.catalog())[0].stages]

    assert added.name in names


@pytest.mark.anyio
async def test_a_stale_name_is_served_once_and_refreshed_behind_the_call(
    crm: CrmClient, wire: Counting, sandbox: Starlette
) -> None:
    account = (await crm.search("accounts", limit=1)).items[0]
    ref = ("accounts", account.id)
    assert (await crm.names([ref]))[ref] == account.name
    await _elsewhere(sandbox, "PATCH", f"/api/accounts/{account.id}/", {"name": "Renamed Elsewhere Ltd"})
    detail = f"/api/accounts/{account.id}/"
    reads = wire.paths.count(detail)

    assert (await crm.names([ref]))[ref] == account.name  # at once, without a read in the call
    await crm.shared.background.settled()
    assert wire.paths.count(detail) == reads + 1
    assert (await crm.names([ref]))[ref] == "Renamed Elsewhere Ltd"


@pytest.mark.anyio
async def test_a_name_past_the_stale_window_is_read_before_the_answer(
    crm: CrmClient, wire: Counting, sandbox: Starlette
) -> None:
    crm.shared.names.stale = 0.0
    account = (await crm.search("accounts", limit=1)).items[0]
    ref = ("accounts", account.id)
    await _elsewhere(sandbox, "PATCH", f"/api/accounts/{account.id}/", {"name": "Renamed Elsewhere Ltd"})

    assert (await crm.names([ref]))[ref] == "Renamed Elsewhere Ltd"
