"""Fixtures: the adapter wired in-process to a fresh sandbox, in either dialect (no respx anywhere)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, Dialect, create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["drf", "django-crm"])
def dialect(request: pytest.FixtureRequest) -> Dialect:
    return request.param


@pytest.fixture
async def crm(dialect: Dialect) -> AsyncIterator[CrmClient]:
    upstream = Upstream("http://sandbox.test", SecretStr(SANDBOX_TOKEN))
    async with CrmClient(upstream, transport=httpx.ASGITransport(app=create_app(dialect=dialect))) as client:
        yield client
