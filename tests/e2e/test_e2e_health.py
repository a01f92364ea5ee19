"""`lava-crm-mcp health`, the image's HEALTHCHECK: /healthz of the HTTP server on a loopback port, nothing for stdio."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import StartHttp

Cli = Callable[..., subprocess.CompletedProcess[str]]


class Unhealthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def unhealthy_port() -> Iterator[int]:
    """A loopback port whose every GET answers 503."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Unhealthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_health_passes_against_a_serving_http_server(cli: Cli, http_server: StartHttp) -> None:
    server = http_server(env={"LAVA_MCP_AUTH_TOKENS": "tok-a"})  # /healthz needs no token
    done = cli("health", "--port", str(server.port), timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"http://127.0.0.1:{server.port}/healthz: 200\n"


def test_health_has_nothing_to_check_where_no_http_server_listens(cli: Cli, port: int) -> None:
    done = cli("health", "--port", str(port), timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"no HTTP server on port {port}: nothing to check\n"


def test_health_fails_when_healthz_does_not_answer_200(cli: Cli, unhealthy_port: int) -> None:
    done = cli("health", "--port", str(unhealthy_port), timeout=30)
    assert done.returncode == 1
    assert done.stdout == f"http://127.0.0.1:{unhealthy_port}/healthz: 503\n"
