"""Fixtures of the tool-layer tests: SDK Client → MCP server → CRM adapter → a fresh in-process demo sandbox."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from starlette.applications import Starlette
from tool_clients import Connect, crm_client

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.sandbox import create_app
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings() reads LAVA_* variables: a developer's shell must not change what the tests see. The key of confirm
    tokens (the sandbox's demo credential is too short to derive one) is kept in the test's own folder."""
    for key in list(os.environ):
        if key.startswith("LAVA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LAVA_MCP_CONFIRM_KEY_FILE", str(tmp_path / "confirm.key"))


@pytest.fixture
def sandbox() -> Iterator[Starlette]:
    """A fresh in-memory sandbox seeded with the demo org (25 contacts, 8 accounts, 2 pipelines, …)."""
    app = create_app(seed="demo")
    yield app
    app.state.sandbox.close()


@pytest.fixture
async def crm(sandbox: Starlette) -> AsyncIterator[CrmClient]:
    async with crm_client(httpx.ASGITransport(app=sandbox)) as client:
        yield client


@pytest.fixture
def connect(crm: CrmClient) -> Connect:
    """`connect(settings=None, mode="auto", crm=None)`: an unopened SDK Client of a new server on the sandbox."""

    def build(settings: Settings | None = None, *, mode: Any = "auto", crm: CrmClient = crm) -> Client:
        return Client(build_server(settings or Settings(), crm=crm), mode=mode)

    return build


@pytest.fixture
async def client(connect: Connect) -> AsyncIterator[Client]:
    """A connected client of a full-mode server with every toolset."""
    async with connect() as client:
        yield client


@pytest.fixture
def failing_crm() -> Callable[[Exception], CrmClient]:
    """`failing_crm(error)`: a CRM client whose every request fails with `error` (no retries)."""

    def build(error: Exception) -> CrmClient:
        def fail(request: httpx.Request) -> httpx.Response:
            raise error

        return crm_client(httpx.MockTransport(fail))

    return build
