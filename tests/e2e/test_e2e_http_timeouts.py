"""Connections that send nothing, idle, or drip a request a byte at a time are closed by the server (raw sockets).

The server runs with 1-second limits (LAVA_MCP_IDLE_TIMEOUT, LAVA_MCP_REQUEST_TIMEOUT) behind the token `tok-a`.
Every wait here is bounded by BOUND seconds of silence (a socket timeout, which fails the test) or by the length of
what is dripped.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import HttpServer, StartHttp

BOUND = 20.0
DRIP_EVERY = 0.25


@pytest.fixture(scope="module")
def strict_http(module_http_server: StartHttp) -> HttpServer:
    return module_http_server(
        env={"LAVA_MCP_IDLE_TIMEOUT": "1", "LAVA_MCP_REQUEST_TIMEOUT": "1", "LAVA_MCP_AUTH_TOKENS": "tok-a"}
    )


@contextmanager
def connection(server: HttpServer) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=BOUND) as sock:
        yield sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout after BOUND s of silence)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def drip(sock: socket.socket, data: bytes) -> bytes | None:
    """Send `data` one byte every DRIP_EVERY s, collecting the server's answer: all of it once the server closed the
    connection, or None if the connection was still open when `data` ran out."""
    received = b""
    try:
        for byte in data:
            readable, _, _ = select.select([sock], [], [], DRIP_EVERY)
            if readable:
                if not (chunk := sock.recv(65536)):
                    return received
                received += chunk
            sock.sendall(bytes([byte]))
    except (BrokenPipeError, ConnectionResetError):
        return received
    return None


def test_a_request_with_normal_pace_is_still_served(strict_http: HttpServer) -> None:
    assert strict_http.post(headers={"Authorization": "Bearer tok-a"}).status_code == 200


def test_a_connection_that_never_sends_a_byte_is_closed(strict_http: HttpServer) -> None:
    with connection(strict_http) as sock:
        assert until_closed(sock) == b""


def test_a_kept_alive_connection_is_closed_once_idle(strict_http: HttpServer) -> None:
    with connection(strict_http) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 200")


def test_request_headers_dripped_a_byte_at_a_time_are_cut_off(strict_http: HttpServer) -> None:
    head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 80
    with connection(strict_http) as sock:
        assert drip(sock, head) == b""


def test_a_body_dripped_a_byte_at_a_time_gets_408_and_the_connection_closed(strict_http: HttpServer) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "x" * 40}}).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{strict_http.port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nAuthorization: Bearer tok-a\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with connection(strict_http) as sock:
        sock.sendall(head)
        answer = drip(sock, body)
    assert answer is not None
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive within 1 s" in answer


def test_a_body_left_unread_by_an_early_401_cannot_be_dripped_for_ever(strict_http: HttpServer) -> None:
    head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"
    with connection(strict_http) as sock:
        sock.sendall(head)
        answer = drip(sock, b"x" * 80)
    assert answer is not None
    assert answer.startswith(b"HTTP/1.1 401")
