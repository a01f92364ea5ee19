"""Fixtures of the end-to-end tests: the real `lava-crm-mcp` executable, run as a subprocess on 127.0.0.1.

Every server gets a free port, a sandbox SQLite file of its own and a clean environment (nothing is inherited
but PATH and HOME). Its stdout and stderr go to files, shown in the report of a failing test. Every wait is
bounded and every process is stopped (SIGTERM, then SIGKILL) in a finalizer.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import StdioServerParameters

EXE = Path(sys.executable).parent / "lava-crm-mcp"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
MCP_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


@functools.cache
def _data_home() -> str:
    """The user data folder the servers under test see (the sandbox's default file, the confirm-token key): the
    test run's own, never the developer's."""
    folder = tempfile.mkdtemp(prefix="lava-crm-mcp-e2e-data-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment: no LAVA_* variable leaks in from the shell running the tests."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    env["XDG_DATA_HOME"] = _data_home()
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpServer:
    """One `lava-crm-mcp http` process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/mcp"

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def post(self, body: Any = TOOLS_LIST, *, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """A raw JSON-RPC POST to /mcp with the MCP content headers plus `headers`."""
        return httpx.post(self.url, json=body, headers={**MCP_HEADERS, **(headers or {})}, timeout=10)

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Poll /healthz until it answers 200; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ServerExited(self.process.returncode, self.stderr())
                try:
                    if client.get(f"{self.base_url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise TimeoutError(f"no /healthz on port {self.port} within {timeout} s:\n{self.stderr()}")

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 10.0) -> str:
        """The stderr log once `text` appears in it `count` times (the access log line is written after the answer)."""
        deadline = time.monotonic() + timeout
        while (log := self.stderr()).count(text) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} did not appear {count} time(s) in the log within {timeout} s:\n{log}")
            time.sleep(0.05)
        return log

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Signal the process and wait (bounded); SIGKILL it if it does not stop. The exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


class ServerExited(RuntimeError):
    def __init__(self, code: int, stderr: str) -> None:
        super().__init__(f"the server exited with code {code} before it was healthy:\n{stderr}")
        self.stderr = stderr


def start_http(workdir: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> HttpServer:
    """Start `lava-crm-mcp http --port <free> --sandbox <workdir>/sandbox.sqlite3 *args` and wait for /healthz.

    A port taken between probing and binding (another process won the race) is retried on a new port.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        port = free_port()
        stdout_path, stderr_path = workdir / f"stdout-{attempt}.log", workdir / f"stderr-{attempt}.log"
        command = [str(EXE), "http", "--port", str(port), "--sandbox", str(workdir / "sandbox.sqlite3"), *args]
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=clean_env(**(env or {}))
            )
        server = HttpServer(process, port, stdout_path, stderr_path)
        try:
            server.wait_healthy()
        except ServerExited as exc:
            if "address already in use" in exc.stderr.lower() and attempt < 2:
                continue
            raise
        except BaseException:
            server.stop(signal.SIGKILL)
            raise
        return server
    raise AssertionError("unreachable")


StartHttp = Callable[..., HttpServer]


def _http_factory(base: Path) -> Iterator[StartHttp]:
    with ExitStack() as stack:
        count = 0

        def start(*args: str, env: Mapping[str, str] | None = None) -> HttpServer:
            nonlocal count
            count += 1
            server = start_http(base / f"server-{count}", args, env)
            stack.callback(server.stop)
            return server

        yield start


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def port() -> int:
    """A free loopback port (for commands that must refuse to start)."""
    return free_port()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[StartHttp]:
    """`http_server(*args, env={...})`: a server for this test only, stopped after it."""
    yield from _http_factory(tmp_path)


@pytest.fixture(scope="module")
def module_http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartHttp]:
    """`module_http_server(*args, env={...})`: a server shared by the tests of one module."""
    yield from _http_factory(tmp_path_factory.mktemp("http"))


@pytest.fixture(scope="module")
def sandbox_http(module_http_server: StartHttp) -> HttpServer:
    """`lava-crm-mcp http --sandbox`: stateless JSON, no auth, default host checks."""
    return module_http_server()


@pytest.fixture(scope="module")
def token_http(module_http_server: StartHttp) -> HttpServer:
    """The same, behind static bearer tokens `tok-a` and `tok-b`."""
    return module_http_server(env={"LAVA_MCP_AUTH_TOKENS": "tok-a,tok-b"})


@pytest.fixture(scope="module")
def passthrough_http(module_http_server: StartHttp) -> HttpServer:
    """Passthrough auth over the embedded sandbox (open mode): each caller's key is its own org."""
    return module_http_server(env={"LAVA_MCP_AUTH": "passthrough"})


@pytest.fixture
def stdio_params(tmp_path: Path) -> Callable[..., StdioServerParameters]:
    """`stdio_params(*args, env={...})`: how the SDK client spawns `lava-crm-mcp stdio --sandbox <tmp> *args`."""

    def params(*args: str, env: Mapping[str, str] | None = None) -> StdioServerParameters:
        argv = ["stdio", "--sandbox", str(tmp_path / "stdio.sqlite3"), *args]
        return StdioServerParameters(command=str(EXE), args=argv, env=clean_env(**(env or {})), cwd=tmp_path)

    return params


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`cli(*args, env={...})`: run the command to completion (bounded) in a clean environment."""

    def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own console script
            [str(EXE), *args],
            capture_output=True,
            text=True,
            env=clean_env(**(env or {})),
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            cwd=tmp_path,
            check=False,
        )

    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the stderr of every server a failing test used to its report."""
    report = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, HttpServer):
                report.sections.append((f"{name} (port {value.port}) stderr", value.stderr()[-10_000:]))
    return report
