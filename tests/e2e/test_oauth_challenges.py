"""What an OAuth client is told, end to end: a real uvicorn serving /mcp on 127.0.0.1 and an authorization server
(metadata and JWKS, which the test can take down) on another loopback port.

401 and 403 challenges carry `scope=` (the read scope for a 401; what the request needs for a 403, so a client can
step up to read+write without ever asking for delete), an authorization-server outage is a 503 with Retry-After
(never `invalid_token`) that /readyz reports, a token that breaks the checker is a 401 with one log line, the clock
skew applies to `exp`, and the README's quick start (a public host in LAVA_MCP_ALLOWED_HOSTS) is served.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from in_thread import running
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lava_crm_mcp import oauth_server
from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.http_app import create_http_app
from lava_crm_mcp.listen import listen
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.serving import build_uvicorn
from lava_crm_mcp.settings import Settings

BOUND = 20.0
READ, WRITE, DELETE = "lava-crm:read", "lava-crm:write", "lava-crm:delete"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def free_port() -> int:
    with listen("127.0.0.1", 0) as sock:
        return int(sock.getsockname()[1])


@dataclass
class Issuer:
    """An authorization server on loopback: RFC 8414 metadata and a JWKS with one RSA key (`k1`); `down` makes it
    answer 503 to everything."""

    port: int
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    down: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def server(self) -> uvicorn.Server:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key())) | {"kid": "k1", "use": "sig"}

        async def metadata(_: Request) -> Response:
            if self.down:
                return Response(status_code=503)
            return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"})

        async def jwks(_: Request) -> Response:
            return Response(status_code=503) if self.down else JSONResponse({"keys": [jwk]})

        routes = [Route("/.well-known/oauth-authorization-server", metadata), Route("/jwks", jwks)]
        return uvicorn.Server(uvicorn.Config(Starlette(routes=routes), log_config=None, ws="none"))


@dataclass(frozen=True)
class Deployment:
    url: str
    issuer: Issuer
    resource: str

    def token(self, scope: str, *, key: Any = None, algorithm: str = "RS256", **claims: Any) -> str:
        body = {"iss": self.issuer.url, "aud": self.resource, "sub": "user-1", "client_id": "app"}
        body |= {"exp": int(time.time()) + 300, "scope": scope} | claims
        return jwt.encode(body, key or self.issuer.key, algorithm, {"kid": "k1"})

    def post(self, token: str | None, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {**MCP_HEADERS, **({"Authorization": f"Bearer {token}"} if token is not None else {}), **(headers or {})}
        request = body or {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        return httpx.post(f"{self.url}/mcp", json=request, headers=sent, timeout=BOUND)

    def call(self, token: str, tool: str, arguments: dict[str, Any]) -> httpx.Response:
        body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        return self.post(token, body)


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    found = Issuer(free_port())
    with running(found.server(), found.port):
        yield found


def deploy(issuer: Issuer, **overrides: Any) -> Iterator[Deployment]:
    port = free_port()
    resource = overrides.pop("resource_url", f"http://127.0.0.1:{port}/mcp")
    settings = Settings(auth="oauth", oauth_issuer=issuer.url, resource_url=resource, crm_token="unused", **overrides)
    sandbox = httpx.ASGITransport(app=create_app(seed="demo"))
    crm = CrmClient(Upstream("http://sandbox.test", SecretStr(SANDBOX_TOKEN)), transport=sandbox)
    with running(build_uvicorn(create_http_app(settings, crm), settings), port) as url:
        yield Deployment(url, issuer, resource)


@pytest.fixture(scope="module")
def deployment(issuer: Issuer) -> Iterator[Deployment]:
    yield from deploy(issuer)


def challenge(answer: httpx.Response) -> str:
    return answer.headers.get("www-authenticate", "")


def test_no_token_is_a_401_asking_for_the_read_scope_only(deployment: Deployment) -> None:
    answer = deployment.post(None)
    assert answer.status_code == 401
    assert 'scope="lava-crm:read"' in challenge(answer)
    assert f'resource_metadata="{deployment.url}/.well-known/oauth-protected-resource/mcp"' in challenge(answer)
    assert "error=" not in challenge(answer)  # RFC 6750 3.1: no error code for a request without credentials
    assert "sign in" in answer.json()["error_description"]


def test_a_refused_token_is_a_401_invalid_token_with_the_read_scope(deployment: Deployment) -> None:
    answer = deployment.post(deployment.token(READ, exp=int(time.time()) - 3600))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in challenge(answer)
    assert 'scope="lava-crm:read"' in challenge(answer)


def test_a_token_without_the_read_scope_is_a_403_naming_it(deployment: Deployment) -> None:
    answer = deployment.post(deployment.token(WRITE))
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in challenge(answer)
    assert 'scope="lava-crm:read"' in challenge(answer)


@pytest.mark.parametrize(
    ("granted", "tool", "arguments", "needed"),
    [
        (READ, "create_task", {"title": "Call Ada"}, f"{READ} {WRITE}"),
        (READ, "delete_task", {"task_id": "t1"}, f"{READ} {DELETE}"),
        (f"{READ} {WRITE}", "delete_contact", {"contact_id": "c1"}, f"{READ} {DELETE}"),
        (f"{READ} {DELETE}", "update_deal", {"deal_id": "d1", "name": "x"}, f"{READ} {WRITE}"),
    ],
    ids=["read-calls-a-write", "read-calls-a-delete", "read-write-calls-a-delete", "read-delete-calls-a-write"],
)
def test_a_call_beyond_the_token_s_scopes_is_a_403_naming_what_it_needs(
    deployment: Deployment, granted: str, tool: str, arguments: dict[str, Any], needed: str
) -> None:
    answer = deployment.call(deployment.token(granted), tool, arguments)
    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in challenge(answer)
    assert f'scope="{needed}"' in challenge(answer)
    assert f'resource_metadata="{deployment.url}/.well-known/oauth-protected-resource/mcp"' in challenge(answer)
    assert "does not carry" in answer.json()["error_description"]


def test_calls_within_the_token_s_scopes_are_served(deployment: Deployment) -> None:
    read_only = deployment.token(READ)
    assert deployment.post(read_only).status_code == 200
    found = deployment.call(read_only, "search_contacts", {"query": "ada"})
    assert found.status_code == 200
    assert "Lovelace" in found.text
    created = deployment.call(
        deployment.token(f"{READ} {WRITE}"), "create_task", {"title": "Call Ada back", "due_date": "2030-01-02"}
    )
    assert created.status_code == 200
    assert '"isError":false' in created.text.replace(" ", "")


def test_es256_with_the_issuer_s_rsa_key_id_is_a_401_and_one_log_line(
    deployment: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    forged = deployment.token(READ, key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    with caplog.at_level("INFO"):
        answer = deployment.post(forged)
        deadline = time.monotonic() + BOUND
        while "rpc=-" not in caplog.text and time.monotonic() < deadline:  # the access line comes after the answer
            time.sleep(0.05)
    assert answer.status_code == 401
    assert 'error="invalid_token"' in challenge(answer)
    refusals = [record for record in caplog.records if record.name == "lava_crm_mcp.oauth"]
    assert len(refusals) == 1
    assert "Refused a bearer token" in refusals[0].getMessage()
    assert not [record for record in caplog.records if record.exc_info or record.levelname in ("ERROR", "CRITICAL")]
    assert forged not in caplog.text


def test_a_token_expired_within_the_clock_skew_is_served(deployment: Deployment) -> None:
    # The default skew is 60 s; the SDK's own expiry check used to refuse it
    assert deployment.post(deployment.token(READ, exp=int(time.time()) - 30)).status_code == 200
    assert deployment.post(deployment.token(READ, exp=int(time.time()) - 120)).status_code == 401


@pytest.fixture
def outage(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """A new deployment (nothing read yet) while the authorization server is down; failures held for 0.5 s."""
    monkeypatch.setattr(oauth_server, "REFETCH_SECONDS", 0.5)
    issuer.down = True
    try:
        yield from deploy(issuer)
    finally:
        issuer.down = False


def test_an_authorization_server_outage_is_a_503_with_retry_after_and_readyz_says_so(outage: Deployment) -> None:
    token = outage.token(READ)
    answer = outage.post(token)
    assert answer.status_code == 503
    assert int(answer.headers["retry-after"]) >= 1
    assert "www-authenticate" not in answer.headers  # nothing tells the client to sign in again
    assert answer.json()["error"] == "temporarily_unavailable"
    assert "try again" in answer.json()["error_description"]
    ready = httpx.get(f"{outage.url}/readyz", timeout=BOUND)
    assert ready.status_code == 200  # every replica shares the outage: none is taken out for it
    assert ready.json()["authorization_server"] == "unavailable"
    outage.issuer.down = False
    deadline = time.monotonic() + BOUND
    while (status := outage.post(token).status_code) == 503 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == 200
    assert httpx.get(f"{outage.url}/readyz", timeout=BOUND).json()["authorization_server"] == "ok"


@pytest.fixture
def quick_start(issuer: Issuer) -> Iterator[Deployment]:
    """The README's quick start: a public resource URL and its host in LAVA_MCP_ALLOWED_HOSTS."""
    yield from deploy(issuer, resource_url="https://mcp.example.com/mcp", allowed_hosts=("mcp.example.com",))


def test_the_readme_quick_start_serves_its_public_host(quick_start: Deployment) -> None:
    token = quick_start.token(READ)
    assert quick_start.post(token, headers={"Host": "mcp.example.com"}).status_code == 200
    assert quick_start.post(token, headers={"Host": "other.example.com"}).status_code == 421


@pytest.fixture
def no_delete(issuer: Issuer) -> Iterator[Deployment]:
    yield from deploy(issuer, mode="no-delete")


def test_no_scope_is_asked_for_a_tool_the_mode_disables(no_delete: Deployment) -> None:
    answer = no_delete.call(no_delete.token(f"{READ} {WRITE}"), "delete_contact", {"contact_id": "c1"})
    assert answer.status_code == 200  # stepping up could not help: the mode refuses it, and says so
    assert "no-delete mode" in answer.text
