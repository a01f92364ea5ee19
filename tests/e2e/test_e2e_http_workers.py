"""`lava-crm-mcp http --workers N`: several processes on one port, stateless only, stopped together."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import EXE, MCP_HEADERS, START_TIMEOUT, STOP_TIMEOUT, HttpServer, clean_env, free_port

from lava_crm_mcp.sandbox import SANDBOX_TOKEN

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _spawn(args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [str(EXE), *args], stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=clean_env(**env)
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)


@pytest.fixture
def crm_url(tmp_path: Path) -> Iterator[str]:
    """The sandbox API alone, in its own process (workers cannot share the embedded one)."""
    port = free_port()
    db = str(tmp_path / "crm.sqlite3")
    process = _spawn(["sandbox", "--port", str(port), "--db", db, "--seed", "demo"], tmp_path / "sandbox.log")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            assert process.poll() is None, (tmp_path / "sandbox.log").read_text()
            assert time.monotonic() < deadline, "the sandbox did not start"
            try:
                if httpx.get(f"{url}/api/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        _stop(process)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _sockets(pid: int) -> int:
    """Open sockets of a process."""
    found = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found += fd.readlink().name.startswith("socket:")
        except OSError:
            continue
    return found


def _listening(pid: int, port: int) -> bool:
    """Whether the process holds a socket listening on 127.0.0.1:port (its fds against the kernel's TCP table)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(fields[9])
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if fd.readlink().name.removeprefix("socket:[").removesuffix("]") in inodes:
                return True
        except OSError:
            continue
    return False


def test_two_workers_serve_stateless_calls_on_one_port_and_stop_together(tmp_path: Path, crm_url: str) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    process = _spawn(
        ["http", "--port", str(port), "--workers", "2"], log, LAVA_CRM_BASE_URL=crm_url, LAVA_CRM_TOKEN=SANDBOX_TOKEN
    )
    server = HttpServer(process, port, log, log)
    try:
        server.wait_healthy()
        workers = _children(process.pid)
        assert len(workers) == 2
        deadline = time.monotonic() + START_TIMEOUT
        while not all(_listening(pid, port) for pid in workers):  # the second may still be starting
            assert time.monotonic() < deadline, "a worker never listened"
            time.sleep(0.1)
        call = {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "search_contacts", "arguments": {}}}
        before = {pid: _sockets(pid) for pid in workers}
        clients = [httpx.Client(timeout=30) for _ in range(20)]  # 20 kept-alive connections, spread by the kernel
        try:
            for number, client in enumerate(clients):
                answer = client.post(server.url, json={**call, "id": number}, headers=MCP_HEADERS)
                assert answer.status_code == 200
                assert answer.json()["result"]["isError"] is False
            assert all(_sockets(pid) > before[pid] for pid in workers)  # each worker holds some of them
        finally:
            for client in clients:
                client.close()
        assert server.stop(signal.SIGTERM, STOP_TIMEOUT) == 0
        assert [pid for pid in workers if Path(f"/proc/{pid}/stat").exists()] == []  # reaped by the parent
        assert "serving with 2 worker processes" in server.stderr()
    finally:
        server.stop(signal.SIGKILL)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--stateful"], "--workers needs stateless mode"),
        (["--sandbox", "crm.sqlite3"], "cannot share the embedded sandbox"),
    ],
)
def test_workers_refuse_stateful_mode_and_the_embedded_sandbox(cli: Cli, extra: list[str], said: str) -> None:
    done = cli("http", "--port", str(free_port()), "--workers", "2", *extra)

    assert done.returncode == 2
    assert said in done.stderr


def test_a_worker_count_out_of_range_is_refused(cli: Cli) -> None:
    done = cli("http", "--port", str(free_port()), "--workers", "0")

    assert done.returncode == 2
    assert "is not a number of processes" in done.stderr
