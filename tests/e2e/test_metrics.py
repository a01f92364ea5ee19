"""Prometheus metrics, scraped from a real uvicorn on 127.0.0.1 after a few tool calls: tool calls by tool and
outcome, their latency, CRM requests by method and status, retries, deadline hits, confirm tokens, OAuth refusals and
open sessions, with their values. Off unless enabled (404), behind the same auth as /mcp, or on a port of their own
without auth; a configuration that would expose them (passthrough) is refused in one line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import pytest
from in_thread import running
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from starlette.applications import Starlette

from lava_crm_mcp.crm import CrmClient, RetryPolicy, Upstream
from lava_crm_mcp.http_app import create_http_app
from lava_crm_mcp.listen import CannotServe, listen
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.serving import build_uvicorn
from lava_crm_mcp.settings import Settings

BOUND = 20.0
TOKEN = {"Authorization": "Bearer tok-a"}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}


def free_port() -> int:
    with listen("127.0.0.1", 0) as sock:
        return int(sock.getsockname()[1])


class FirstReadFails(httpx.AsyncBaseTransport):
    """The sandbox, except that the first GET answers 503 (so the client retries it once)."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.failed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and not self.failed:
            self.failed = True
            return httpx.Response(503, json={"detail": "busy"})
        return await self.inner.handle_async_request(request)


class Hangs(httpx.AsyncBaseTransport):
    """A CRM that never answers in time."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await anyio.sleep(BOUND)
        return httpx.Response(200, json={})


def crm(transport: httpx.AsyncBaseTransport) -> CrmClient:
    retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    return CrmClient(Upstream("http://sandbox.test", SecretStr(SANDBOX_TOKEN)), transport=transport, retry=retry)


@contextmanager
def serving(settings: Settings, transport: httpx.AsyncBaseTransport | None = None, **app: Any) -> Iterator[str]:
    sandbox = transport or httpx.ASGITransport(app=create_app(seed="demo"))
    with running(build_uvicorn(create_http_app(settings, crm(sandbox), **app), settings)) as url:
        yield url


def call(url: str, tool: str, arguments: dict[str, Any], headers: dict[str, str] = TOKEN) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    answer = httpx.post(f"{url}/mcp", json=body, headers={**MCP_HEADERS, **headers}, timeout=BOUND)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def scrape(url: str, headers: dict[str, str] = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) -> value."""
    answer = httpx.get(url, headers=headers, timeout=BOUND)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_unless_enabled() -> None:
    with serving(Settings(auth_tokens=(SecretStr("tok-a"),))) as url:
        answer = httpx.get(f"{url}/metrics", headers=TOKEN, timeout=BOUND)
    assert answer.status_code == 404


def test_a_scrape_after_a_few_calls_shows_the_counters_with_their_values() -> None:
    settings = Settings(auth_tokens=(SecretStr("tok-a"),), metrics=True)
    with serving(settings, FirstReadFails(create_app(seed="demo"))) as url:
        started = time.perf_counter()
        assert not call(url, "search_contacts", {"query": "Ada"})["isError"]
        made = call(url, "create_contact", {"first_name": "Zq", "last_name": "Metric"})["structuredContent"]["record"]
        assert call(url, "get_contact", {"contact_id": "zz-missing"})["isError"]
        preview = call(url, "delete_contact", {"contact_id": made["id"]})["structuredContent"]
        assert call(url, "delete_contact", {"contact_id": made["id"], "confirm": "1.bogus"})["isError"]
        assert not call(url, "delete_contact", {"contact_id": made["id"], "confirm": preview["confirm"]})["isError"]
        elapsed = time.perf_counter() - started
        unauthenticated = httpx.get(f"{url}/metrics", timeout=BOUND)
        samples = scrape(f"{url}/metrics")

    assert unauthenticated.status_code == 401
    calls = "lava_mcp_tool_calls_total"
    assert value(samples, calls, tool="search_contacts", outcome="ok") == 1
    assert value(samples, calls, tool="create_contact", outcome="ok") == 1
    assert value(samples, calls, tool="get_contact", outcome="error") == 1
    assert value(samples, calls, tool="delete_contact", outcome="ok") == 2
    assert value(samples, calls, tool="delete_contact", outcome="error") == 1
    assert value(samples, "lava_mcp_tool_call_seconds_count", tool="delete_contact") == 3
    assert 0 < value(samples, "lava_mcp_tool_call_seconds_sum", tool="search_contacts") <= elapsed
    assert value(samples, "lava_crm_upstream_requests_total", method="GET", status="503") == 1
    assert value(samples, "lava_crm_upstream_requests_total", method="GET", status="200") >= 4
    assert value(samples, "lava_crm_upstream_requests_total", method="POST", status="201") == 1
    assert value(samples, "lava_crm_upstream_requests_total", method="GET", status="404") >= 1
    assert value(samples, "lava_crm_upstream_retries_total", method="GET") == 1
    assert value(samples, "lava_crm_upstream_request_seconds_count", method="POST") == 1
    assert value(samples, "lava_mcp_confirm_tokens_total", event="issued") == 1
    assert value(samples, "lava_mcp_confirm_tokens_total", event="accepted") == 1
    assert value(samples, "lava_mcp_confirm_tokens_total", event="refused") == 1
    assert value(samples, "lava_mcp_deadline_hits_total", where="upstream") == 0


def test_a_crm_that_never_answers_counts_a_deadline_hit_and_a_timeout() -> None:
    settings = Settings(metrics=True, call_deadline=0.5)
    with serving(settings, Hangs()) as url:
        started = time.perf_counter()
        result = call(url, "search_contacts", {"query": "Ada"}, headers={})
        elapsed = time.perf_counter() - started
        samples = scrape(f"{url}/metrics", headers={})

    assert result["isError"]
    assert elapsed < 0.5 + 5.0
    assert value(samples, "lava_mcp_deadline_hits_total", where="upstream") == 1
    assert value(samples, "lava_crm_upstream_transport_errors_total", method="GET", error="timeout") == 1
    assert value(samples, "lava_crm_upstream_requests_total", method="GET", status="error") == 1
    assert value(samples, "lava_mcp_tool_calls_total", tool="search_contacts", outcome="error") == 1


def test_on_a_port_of_their_own_metrics_need_no_auth_and_the_app_does_not_serve_them() -> None:
    port = free_port()
    settings = Settings(auth_tokens=(SecretStr("tok-a"),), metrics_port=port)
    with serving(settings) as url:
        assert not call(url, "search_contacts", {"query": "Ada"})["isError"]
        on_app = httpx.get(f"{url}/metrics", headers=TOKEN, timeout=BOUND)
        samples = scrape(f"http://127.0.0.1:{port}/metrics", headers={})
    after = _refused(f"http://127.0.0.1:{port}/metrics")

    assert on_app.status_code == 404
    assert value(samples, "lava_mcp_tool_calls_total", tool="search_contacts", outcome="ok") == 1
    assert after  # the metrics server stops with the app


def _refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return True
    return False


def test_a_metrics_port_in_use_and_passthrough_without_one_are_refused_in_one_line() -> None:
    with listen("127.0.0.1", 0) as taken:
        port = int(taken.getsockname()[1])
        taken.listen()
        with pytest.raises(CannotServe) as busy:
            create_http_app(Settings(metrics_port=port), crm(Hangs()))
    with pytest.raises(CannotServe) as exposed:
        create_http_app(Settings(auth="passthrough", metrics=True), crm(Hangs()))

    assert f"Cannot serve metrics on 127.0.0.1:{port}" in str(busy.value)
    assert "LAVA_MCP_METRICS_PORT" in str(exposed.value)
    assert "\n" not in str(busy.value) + str(exposed.value)


def test_oauth_refusals_are_counted_by_reason_and_metrics_need_a_token() -> None:
    port, metrics_port = free_port(), free_port()
    unreachable = f"http://127.0.0.1:{free_port()}"  # an authorization server that is down
    oauth = {"auth": "oauth", "oauth_issuer": unreachable, "resource_url": f"http://127.0.0.1:{port}/mcp"}
    with serving(Settings(**oauth, crm_token="unused", metrics=True)) as url:
        challenge = httpx.get(f"{url}/metrics", timeout=BOUND)
    settings = Settings(**oauth, crm_token="unused", metrics_port=metrics_port)
    with serving(settings) as url:
        posts = [
            httpx.post(f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **headers}, timeout=BOUND)
            for headers in ({}, {}, {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer a.b.c"})
        ]
        samples = scrape(f"http://127.0.0.1:{metrics_port}/metrics", headers={})

    assert challenge.status_code == 401
    assert 'scope="lava-crm:read"' in challenge.headers["www-authenticate"]
    assert [answer.status_code for answer in posts] == [401, 401, 401, 503]
    refusals = "lava_mcp_oauth_refusals_total"
    assert value(samples, refusals, reason="no_token") == 2
    assert value(samples, refusals, reason="malformed_header") == 1
    assert value(samples, refusals, reason="unavailable") == 1
    assert value(samples, refusals, reason="invalid_token") == 0


def test_open_sessions_are_counted_until_they_end() -> None:
    with serving(Settings(metrics=True), stateful=True) as url, httpx.Client(timeout=BOUND) as client:
        sessions = [client.post(f"{url}/mcp", json=INITIALIZE, headers=MCP_HEADERS) for _ in range(2)]
        opened = value(scrape(f"{url}/metrics", headers={}), "lava_mcp_open_sessions")
        first = sessions[0].headers["mcp-session-id"]
        assert client.delete(f"{url}/mcp", headers={"Mcp-Session-Id": first}).status_code == 200
        after = value(scrape(f"{url}/metrics", headers={}), "lava_mcp_open_sessions")

    assert [answer.status_code for answer in sessions] == [200, 200]
    assert (opened, after) == (2, 1)
