"""LAVA_MCP_AUTH=oauth end to end: a real uvicorn serving /mcp on 127.0.0.1, an authorization server (metadata and
JWKS) on another loopback port, the SDK's client sending tokens signed here. Scopes decide the tools a caller sees
and may run; the access line names the caller, never the token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from in_thread import running
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lava_crm_mcp.catalog import catalog
from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.http_app import create_http_app
from lava_crm_mcp.listen import listen
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.serving import build_uvicorn
from lava_crm_mcp.settings import Settings

BOUND = 20.0
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
READ, WRITE, DELETE = "lava-crm:read", "lava-crm:write", "lava-crm:delete"
WRITE_TOOLS = {"create_task", "update_deal", "move_deal_to_stage", "add_stage", "log_activity"}


def free_port() -> int:
    with listen("127.0.0.1", 0) as sock:
        return int(sock.getsockname()[1])


def authorization_server(port: int) -> uvicorn.Server:
    issuer = f"http://127.0.0.1:{port}"
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())) | {"kid": "k1", "use": "sig"}

    async def metadata(_: Request) -> Response:
        return JSONResponse({"issuer": issuer, "jwks_uri": f"{issuer}/jwks", "token_endpoint": f"{issuer}/token"})

    async def jwks(_: Request) -> Response:
        return JSONResponse({"keys": [jwk]})

    routes = [Route("/.well-known/oauth-authorization-server", metadata), Route("/jwks", jwks)]
    return uvicorn.Server(uvicorn.Config(Starlette(routes=routes), log_config=None, ws="none"))


@dataclass(frozen=True)
class Deployment:
    url: str
    issuer: str

    def token(self, scope: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": f"{self.url}/mcp", "sub": "user-1", "client_id": "app", "exp": now + 300}
        return jwt.encode(body | {"scope": scope} | claims, KEY, "RS256", {"kid": "k1"})

    def client(self, token: str) -> tuple[httpx2.AsyncClient, Client]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        return http, Client(streamable_http_client(f"{self.url}/mcp", http_client=http))


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    auth_port, mcp_port = free_port(), free_port()
    with running(authorization_server(auth_port), auth_port) as issuer:
        settings = Settings(
            auth="oauth", oauth_issuer=issuer, resource_url=f"http://127.0.0.1:{mcp_port}/mcp", crm_token="unused"
        )
        sandbox = httpx.ASGITransport(app=create_app(seed="demo"))
        crm = CrmClient(Upstream("http://sandbox.test", SecretStr(SANDBOX_TOKEN)), transport=sandbox)
        with running(build_uvicorn(create_http_app(settings, crm), settings), mcp_port) as url:
            yield Deployment(url, issuer)


def post_mcp(deployment: Deployment, token: str | None = None) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return httpx.post(f"{deployment.url}/mcp", json=body, headers=headers, timeout=BOUND)


def test_no_token_is_a_401_pointing_at_the_resource_metadata(deployment: Deployment) -> None:
    answer = post_mcp(deployment)
    assert answer.status_code == 401
    metadata_url = f"{deployment.url}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata_url}"' in answer.headers["www-authenticate"]


def test_the_resource_metadata_names_the_issuer_and_every_scope(deployment: Deployment) -> None:
    document = httpx.get(f"{deployment.url}/.well-known/oauth-protected-resource/mcp", timeout=BOUND).json()
    assert document["resource"] == f"{deployment.url}/mcp"
    assert document["authorization_servers"] == [deployment.issuer]
    assert document["scopes_supported"] == [READ, WRITE, DELETE]


@pytest.mark.parametrize(
    "claims",
    [{"expired_for": 3600}, {"aud": "http://127.0.0.1:1/mcp"}, {"iss": "http://127.0.0.1:1"}],
    ids=["expired", "another-audience", "another-issuer"],
)
def test_a_bad_token_is_a_401(deployment: Deployment, claims: dict[str, Any]) -> None:
    if "expired_for" in claims:  # the expiry is computed now, when the test runs
        claims = {"exp": int(time.time()) - claims["expired_for"]}
    assert post_mcp(deployment, deployment.token(READ, **claims)).status_code == 401


def test_a_token_without_the_read_scope_is_a_403_naming_it(deployment: Deployment) -> None:
    answer = post_mcp(deployment, deployment.token(WRITE))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]
    assert READ in answer.json()["error_description"]


def test_authorization_server_discovery_is_not_served_here(deployment: Deployment) -> None:
    assert httpx.get(f"{deployment.url}/.well-known/oauth-authorization-server", timeout=BOUND).status_code == 404


async def tools_and_create(deployment: Deployment, scope: str) -> tuple[set[str], Any, Any]:
    http, client = deployment.client(deployment.token(scope))
    async with http, client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        found = await client.call_tool("search_contacts", {"query": "ada"})
        try:
            created = await client.call_tool("create_task", {"title": "Call Ada back", "due_date": "2030-01-02"})
        except MCPError as refused:  # a 403 (insufficient_scope) reaches the client as an error
            created = refused
    return names, found, created


@pytest.mark.anyio
async def test_a_read_only_token_never_sees_or_runs_a_write_tool(deployment: Deployment) -> None:
    names, found, created = await tools_and_create(deployment, READ)
    assert names
    assert not names & WRITE_TOOLS
    assert not any(name.startswith("delete_") for name in names)
    assert found.is_error is False
    assert "Lovelace" in found.content[0].text
    assert isinstance(created, MCPError)  # refused with 403 before it ran (test_oauth_challenges.py: the challenge)


@pytest.mark.anyio
async def test_read_and_write_scopes_show_writes_but_no_deletes(deployment: Deployment) -> None:
    names, _, created = await tools_and_create(deployment, f"{READ} {WRITE}")
    assert names >= WRITE_TOOLS
    assert not any(name.startswith("delete_") for name in names)
    assert created.is_error is False


@pytest.mark.anyio
async def test_every_scope_shows_every_tool(deployment: Deployment) -> None:
    names, _, _ = await tools_and_create(deployment, f"{READ} {WRITE} {DELETE}")
    assert len(names) == len(catalog().tools)


def test_the_access_line_names_the_caller_not_the_token(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    token = deployment.token(READ)
    with caplog.at_level("INFO", logger="lava_crm_mcp.access"):
        assert post_mcp(deployment, token).status_code == 200
        deadline = time.monotonic() + BOUND
        while "rpc=tools/list" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "sub=user-1,client=app" in caplog.text
    assert token not in caplog.text


@pytest.mark.anyio
async def test_a_change_made_with_an_oauth_token_is_attributed_to_its_subject_and_client(
    deployment: Deployment,
) -> None:
    http, client = deployment.client(deployment.token(f"{READ} {WRITE}"))
    async with http, client:
        found = await client.call_tool("search_deals", {"query": "Risk dashboards"})
        deal = (found.structured_content or {})["items"][0]["id"]
        moved = await client.call_tool(
            "move_deal_to_stage", {"deal_id": deal, "stage": "Proposal", "reason": "Demo done"}
        )
        got = (await client.call_tool("get_deal", {"deal_id": deal})).structured_content or {}

    assert moved.is_error is False
    entry = got["related"]["timeline"]["items"][0]
    assert (entry["by"], entry["reason"]) == ("user-1 via oauth client app", "Demo done")
