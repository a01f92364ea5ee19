"""The CRM client's connections: several small pools, each request to the least busy one, released on close; httpx's
own pool where the environment names a proxy."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import anyio
import httpx
import pytest
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.crm.pool import Pools


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _pools(seen: list[int], shards: int = 3) -> Pools:
    """Pools whose every pool answers with its own index (and counts what it was sent)."""

    def make(index: int) -> httpx.AsyncBaseTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(index)
            if request.url.path == "/fail":
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(200, stream=httpx.ByteStream(str(index).encode()))  # open until closed

        return httpx.MockTransport(answer)

    counter = iter(range(shards))
    return Pools(shards, 4, make=lambda limits: make(next(counter)))


@pytest.mark.anyio
async def test_requests_in_flight_go_to_the_least_busy_pool_and_free_it_when_closed() -> None:
    seen: list[int] = []
    pools = _pools(seen)
    open_responses = [await pools.handle_async_request(httpx.Request("GET", "http://crm.test/x")) for _ in range(4)]

    assert seen == [0, 1, 2, 0]
    assert pools.in_flight == [2, 1, 1]
    for response in open_responses:
        await response.aread()
        await response.aclose()
    assert pools.in_flight == [0, 0, 0]
    await pools.handle_async_request(httpx.Request("GET", "http://crm.test/x"))
    assert seen[-1] == 0  # a quiet client keeps to the first pool's warm connections


@pytest.mark.anyio
async def test_a_failed_request_frees_its_pool() -> None:
    pools = _pools([])
    with pytest.raises(httpx.ConnectError):
        await pools.handle_async_request(httpx.Request("GET", "http://crm.test/fail"))

    assert pools.in_flight == [0, 0, 0]


@pytest.mark.anyio
async def test_a_response_closed_twice_frees_its_pool_once() -> None:
    pools = _pools([])
    first = await pools.handle_async_request(httpx.Request("GET", "http://crm.test/x"))
    second = await pools.handle_async_request(httpx.Request("GET", "http://crm.test/x"))
    await first.aclose()
    await first.aclose()

    assert pools.in_flight == [0, 1, 0]
    await second.aclose()
    with anyio.fail_after(5):
        await pools.aclose()


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy on loopback that answers every request itself, noting the target it was asked for."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        body = b'{"count": 0, "next": null, "previous": null, "results": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    _Proxy.seen = []
    try:
        yield _Proxy.seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.anyio
async def test_a_proxy_named_by_the_environment_is_still_used(proxy: list[str]) -> None:
    async with CrmClient(Upstream("http://crm.test", SecretStr("a-token")), retry=RetryPolicy(max_attempts=1)) as crm:
        await crm.search("contacts", limit=5)

    assert [target.split("?")[0] for target in proxy] == ["http://crm.test/api/contacts/"]  # asked of the proxy
