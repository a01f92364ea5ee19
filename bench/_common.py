"""Helpers for the benches: loopback ports and URLs, child processes that always stop, RSS, percentiles."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"


def loopback(url: str) -> str:
    """`url`, after checking that it points at 127.0.0.1 (the benches contact nothing else)."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError(f"not a loopback URL: {url}")
    return url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def spawn(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a child with stdin closed and stdout/stderr appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)  # noqa: S603


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it is still running after `grace` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Poll `ready` until it is true; fail with the child's log if the child exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.args} not ready within {timeout} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def children() -> list[int]:
    """Pids of this process's live children (e.g. stdio servers an SDK client spawned)."""
    mine = str(os.getpid())
    found: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == mine and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def reap_children(grace: float = 5.0) -> list[int]:
    """SIGTERM every remaining child, then SIGKILL those still alive after `grace` seconds; returns their pids."""
    left = children()
    _signal(left, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while children() and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal(children(), signal.SIGKILL)
    return left


def _signal(pids: Sequence[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def start_sandbox(exe: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`lava-crm-mcp sandbox` with demo data in a db under `work`, on a free loopback port; its process and URL.

    It logs each request (uvicorn's access log, at the default level) to work/sandbox.log: see UpstreamLog.
    """
    port, log = free_port(), work / "sandbox.log"
    args = [str(exe), "sandbox", "--host", "127.0.0.1", "--port", str(port), "--db", str(work / "crm.sqlite3")]
    process = spawn([*args, "--seed", "demo"], {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(work)}, log)
    url = loopback(f"http://127.0.0.1:{port}")

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/api/openapi.json", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, process, log, timeout=30)
    return process, url


class UpstreamLog:
    """Counts the requests the sandbox logged (uvicorn's access log) since the last look."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def new_requests(self, methods: Sequence[str] = ("GET",)) -> int:
        """The requests of these methods logged since the last look."""
        with self.path.open("rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        self.offset += len(chunk)
        return sum(chunk.count(f'"{method} /api/'.encode()) for method in methods)

    def new_gets(self) -> int:
        return self.new_requests()


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` (VmRSS from /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def descendants(pid: int) -> list[int]:
    """`pid` and every live process below it (uvicorn's workers, say)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += parents.get(current, [])
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` and its live descendants."""
    total = 0.0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(member)
    return total


def tree_rss_mib(pid: int) -> float:
    """VmRSS of `pid` and its live descendants, in MiB."""
    total = 0.0
    for member in descendants(pid):
        with contextlib.suppress(OSError, RuntimeError):
            total += rss_mib(member)
    return total
