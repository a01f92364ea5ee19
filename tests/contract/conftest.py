"""Fixtures: the adapter wired in-process to a fresh sandbox, in either dialect (no respx anywhere), and a clean
environment for the servers the tool-level tests build."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

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


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings() reads LAVA_* variables: a developer's shell must not change what a server under test sees."""
    for key in list(os.environ):
        if key.startswith("LAVA_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LAVA_MCP_CONFIRM_KEY_FILE", str(tmp_path / "confirm.key"))
