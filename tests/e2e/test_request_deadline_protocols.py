"""The request-head deadline works on both of uvicorn's HTTP protocols (httptools where installed, h11 otherwise):
a real uvicorn in a thread on 127.0.0.1, raw sockets that send nothing or drip a header."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from lava_crm_mcp.serving import RequestDeadline, uvicorn_problem

BOUND = 10.0
SECONDS = 0.5


def protocols() -> list[type]:
    found: list[type] = [H11Protocol]
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return found
    return [*found, HttpToolsProtocol]


@contextmanager
def server(base: type) -> Iterator[int]:
    app = Starlette(routes=[Route("/", lambda _: PlainTextResponse("ok"))])
    protocol = type(f"{base.__name__}WithDeadline", (RequestDeadline, base), {"seconds": SECONDS})
    config = uvicorn.Config(app, host="127.0.0.1", port=0, http=protocol, log_config=None, lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + BOUND
        while not running.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield running.servers[0].sockets[0].getsockname()[1]
    finally:
        running.should_exit = True
        thread.join(BOUND)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection within the bound (an empty read or a reset)."""
    sock.settimeout(BOUND)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("base", protocols(), ids=lambda base: base.__name__)
def test_a_connection_that_sends_nothing_is_closed(base: type) -> None:
    with server(base) as port, socket.create_connection(("127.0.0.1", port), timeout=BOUND) as sock:
        assert closed_by_server(sock)


@pytest.mark.parametrize("base", protocols(), ids=lambda base: base.__name__)
def test_a_dripped_header_is_cut_off_and_a_prompt_request_is_served(base: type) -> None:
    with server(base) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            for _ in range(3):
                time.sleep(SECONDS / 2)
                try:
                    sock.sendall(b"X-Drip: 1\r\n")
                except OSError:
                    break
            assert closed_by_server(sock)
        with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")


def test_the_installed_uvicorn_has_what_the_request_deadline_relies_on() -> None:
    assert uvicorn_problem() is None
    assert uvicorn_problem(H11Protocol) is None


class Bare(asyncio.Protocol):
    """A protocol as a future uvicorn might write it: the hooks, but none of the state the deadline reads."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport


def test_a_uvicorn_without_it_is_named_in_one_sentence_before_serving() -> None:
    problem = uvicorn_problem(Bare)

    assert problem is not None
    assert problem.startswith(
        f"uvicorn {uvicorn.__version__} is not compatible with this lava-crm-mcp: its Bare lacks "
    )
    assert "self.cycle, self.loop, self.client, RequestResponseCycle.response_complete" in problem
