"""/readyz reflects the process, not the CRM: a real uvicorn on 127.0.0.1 in a thread, over a counting fake CRM.

The in-process server is the one `lava-crm-mcp http` runs (serving.build_uvicorn over http.create_http_app), with its
CrmClient on an httpx.MockTransport that counts every request that would have reached the CRM.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from in_thread import running
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.http_app import create_http_app
from lava_crm_mcp.serving import build_uvicorn
from lava_crm_mcp.settings import Settings

if TYPE_CHECKING:
    from conftest import StartHttp

BOUND = 20.0
Answer = Callable[[httpx.Request], httpx.Response]


class FakeCrm:
    """The CRM's side of an httpx.MockTransport: answers with `answer` and counts the requests."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self.answer(request)


def pipelines(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"count": 0, "next": None, "results": []})


def revoked(_: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"detail": "Invalid token."})


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [name for name in os.environ if name.startswith("LAVA_")]:
        monkeypatch.delenv(name)
    return Settings(crm_token=SecretStr("server-key"))


@contextmanager
def serving(settings: Settings, crm: FakeCrm) -> Iterator[httpx.Client]:
    """The HTTP app on a free loopback port, in a thread; a client for it. Stopped (bounded) on exit."""
    client = CrmClient(Upstream("https://crm.test", SecretStr("server-key")), transport=httpx.MockTransport(crm))
    with (
        running(build_uvicorn(create_http_app(settings, client), settings)) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        yield http


def settled(http: httpx.Client) -> dict[str, Any]:
    """The /readyz body once the CRM probe has reported (polled, bounded)."""
    deadline = time.monotonic() + BOUND
    while (body := http.get("/readyz").json())["upstream"] == "unchecked":
        assert time.monotonic() < deadline, "the CRM probe never reported"
        time.sleep(0.05)
    return body


def test_a_hundred_readyz_calls_reach_the_crm_at_most_once(settings: Settings) -> None:
    crm = FakeCrm(pipelines)
    with serving(settings, crm) as http:
        answers = [http.get("/readyz") for _ in range(100)]
        final = settled(http)
    assert {(answer.status_code, answer.json()["status"]) for answer in answers} == {(200, "ready")}
    assert final == {"status": "ready", "upstream": "ok"}
    assert crm.requests == 1


@pytest.mark.parametrize(
    ("answer", "upstream"), [(unreachable, "unreachable"), (revoked, "credential refused")], ids=["down", "revoked"]
)
def test_a_crm_that_is_down_or_refuses_the_key_leaves_the_replica_ready_and_is_asked_once(
    settings: Settings, answer: Answer, upstream: str
) -> None:
    crm = FakeCrm(answer)
    with serving(settings, crm) as http:
        final = settled(http)
        again = http.get("/readyz")
    assert final == {"status": "ready", "upstream": upstream}
    assert (again.status_code, again.json()) == (200, final)
    assert crm.requests == 1  # one attempt: no retries, and no second probe within 30 s


def test_healthz_is_liveness_and_never_asks_the_crm(settings: Settings) -> None:
    crm = FakeCrm(unreachable)
    with serving(settings, crm) as http:
        assert [http.get("/healthz").json() for _ in range(10)] == [{"status": "ok"}] * 10
    assert crm.requests == 0


def test_after_sigterm_readyz_answers_503_while_mcp_still_serves_and_a_second_sigterm_stops_it(
    http_server: StartHttp,
) -> None:
    server = http_server(env={"LAVA_MCP_SHUTDOWN_DELAY": "60"})
    assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
    server.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + BOUND
    while (ready := httpx.get(f"{server.base_url}/readyz", timeout=10)).status_code == 200:
        assert time.monotonic() < deadline, "/readyz never turned 503 after SIGTERM"
        time.sleep(0.05)
    assert (ready.status_code, ready.json()["status"]) == (503, "unready")
    assert server.post().status_code == 200  # still serving while load balancers take it out
    assert server.stop(signal.SIGTERM, timeout=15) == 0, server.stderr()
    assert "/readyz answers 503" in server.stderr()
