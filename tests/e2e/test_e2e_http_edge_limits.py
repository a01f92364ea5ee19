"""The HTTP edge under odd and greedy clients, against the real `lava-crm-mcp http` process: JSON nested thousands
deep is a 400 parse error (no traceback), a path that is not the app's own is logged without its remainder, and
`--stateful` caps its sessions (LAVA_MCP_MAX_SESSIONS: 503 beyond) and ends event streams and sessions left idle
(LAVA_MCP_SSE_IDLE_TIMEOUT)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from conftest import MCP_HEADERS, HttpServer, StartHttp

BOUND = 20.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}


@pytest.mark.parametrize(
    "body",
    [
        lambda: b"[" * 6000 + b"]" * 6000,
        lambda: b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": ' + b'{"a": ' * 6000 + b"1" + b"}" * 6001,
    ],
    ids=["array", "params"],
)
def test_json_nested_thousands_deep_is_a_400_parse_error(sandbox_http: HttpServer, body: Callable[[], bytes]) -> None:
    answer = httpx.post(sandbox_http.url, content=body(), headers=MCP_HEADERS, timeout=BOUND)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == -32700
    log = sandbox_http.wait_for_log('"POST /mcp HTTP/1.1" 400')
    assert "Traceback" not in log
    assert "RecursionError" not in log


def test_a_path_that_is_not_the_app_s_own_is_logged_without_its_remainder(sandbox_http: HttpServer) -> None:
    secret = "lava_sk_0123456789abcdef0123456789"
    for path in (f"/mcp/{secret}", f"/{secret}", f"/.well-known/openid-configuration/{secret}"):
        httpx.get(f"{sandbox_http.base_url}{path}", timeout=BOUND)
    log = sandbox_http.wait_for_log('"GET /.well-known/openid-configuration/... HTTP/1.1" 404')
    assert '"GET /mcp/... HTTP/1.1" 404' in log
    assert '"GET /... HTTP/1.1" 404' in log
    assert secret not in log


def open_session(client: httpx.Client, url: str) -> httpx.Response:
    return client.post(url, json=INITIALIZE, headers=MCP_HEADERS)


@pytest.fixture
def stateful(http_server: StartHttp) -> HttpServer:
    return http_server("--stateful", env={"LAVA_MCP_MAX_SESSIONS": "3", "LAVA_MCP_SSE_IDLE_TIMEOUT": "1"})


def test_sessions_beyond_the_cap_are_refused_with_503(stateful: HttpServer) -> None:
    with httpx.Client(timeout=BOUND) as client:
        opened = [open_session(client, stateful.url) for _ in range(3)]
        assert [answer.status_code for answer in opened] == [200, 200, 200]
        refused = open_session(client, stateful.url)
        assert refused.status_code == 503
        assert "Too many open sessions" in refused.text
        ended = client.delete(stateful.url, headers={"Mcp-Session-Id": opened[0].headers["mcp-session-id"]})
        assert ended.status_code == 200
        assert open_session(client, stateful.url).status_code == 200  # room again


def test_an_idle_event_stream_is_ended_and_then_its_session(stateful: HttpServer) -> None:
    with httpx.Client(timeout=BOUND) as client:
        session = open_session(client, stateful.url).headers["mcp-session-id"]
        headers = {"Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
        notified = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert client.post(stateful.url, json=notified, headers={**MCP_HEADERS, **headers}).status_code == 202
        started = time.monotonic()
        with client.stream("GET", stateful.url, headers={**headers, "Accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200
            for _ in stream.iter_bytes():  # the stream ends by itself: no event came for 1 s
                pass
        ended = time.monotonic()
        assert 0.5 < ended - started < 15
        time.sleep(3)  # no request at all for three times the idle timeout
        ping = {"jsonrpc": "2.0", "id": 5, "method": "ping"}
        answer = client.post(stateful.url, json=ping, headers={**MCP_HEADERS, **headers})
        assert answer.status_code == 404  # the session ended: the client must initialize a new one
