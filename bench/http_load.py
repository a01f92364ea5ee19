"""Load on a real `lava-crm-mcp http --sandbox` server: N concurrent SDK clients × M search_contacts calls each.

    python bench/http_load.py [--clients 5] [--calls 20] [--mode auto|legacy] [--stateful] [--deadline 120]

Starts the server on 127.0.0.1 (a free port, a throwaway sandbox database), waits for /healthz, runs the clients
concurrently under one overall deadline, prints calls/s and p50/p95/max latency, then stops the server (SIGTERM,
then SIGKILL). Loopback only; nothing else is contacted.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
from mcp import Client

EXE = Path(sys.executable).parent / "lava-crm-mcp"
QUERIES = ("ada", "hopper", "curie", "turing", "lamarr", "", "noether", "franklin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_server(workdir: Path, *, stateful: bool, start_timeout: float = 30.0) -> Iterator[str]:
    """Run `lava-crm-mcp http --sandbox` on a free loopback port; yield its /mcp URL; always stop it."""
    port = free_port()
    args = [str(EXE), "http", "--host", "127.0.0.1", "--port", str(port), "--sandbox", str(workdir / "bench.sqlite3")]
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", str(workdir)),
        "LAVA_CRM_LOG_LEVEL": "WARNING",
    }
    log = workdir / "server.log"
    with log.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [*args, *(["--stateful"] if stateful else [])], stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env
        )
    try:
        deadline = time.monotonic() + start_timeout
        with httpx.Client(timeout=2) as probe:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text()}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"no /healthz within {start_timeout} s:\n{log.read_text()}")
                try:
                    if probe.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def one_client(url: str, mode: str, calls: int, index: int, latencies: list[float], errors: list[str]) -> None:
    async with Client(url, mode=mode, read_timeout_seconds=30) as client:  # type: ignore[arg-type]
        for call in range(calls):
            query = QUERIES[(index + call) % len(QUERIES)]
            started = time.perf_counter()
            result = await client.call_tool("search_contacts", {"query": query} if query else {})
            latencies.append((time.perf_counter() - started) * 1000)
            if result.is_error:
                errors.append(str(result.content[0]))


async def load(url: str, *, clients: int, calls: int, mode: str, deadline: float) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    with anyio.fail_after(deadline):
        async with anyio.create_task_group() as group:
            for index in range(clients):
                group.start_soon(one_client, url, mode, calls, index, latencies, errors)
    elapsed = time.perf_counter() - started
    for error in errors[:3]:
        print(f"error: {error}", file=sys.stderr)
    return latencies, elapsed, len(errors)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5, help="concurrent SDK clients (default: 5)")
    parser.add_argument("--calls", type=int, default=20, help="search_contacts calls per client (default: 20)")
    parser.add_argument("--mode", choices=["auto", "legacy"], default="auto", help="client protocol era")
    parser.add_argument("--stateful", action="store_true", help="serve stateful sessions instead of stateless JSON")
    parser.add_argument("--deadline", type=float, default=120.0, help="bound on the whole run, seconds (default: 120)")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="lava-http-load-") as tmp,
        http_server(Path(tmp), stateful=args.stateful) as url,
    ):
        anyio.run(lambda: load(url, clients=1, calls=3, mode=args.mode, deadline=30))  # warm-up, not measured
        latencies, elapsed, errors = anyio.run(
            lambda: load(url, clients=args.clients, calls=args.calls, mode=args.mode, deadline=args.deadline)
        )

    total = len(latencies)
    server = "stateful" if args.stateful else "stateless JSON"
    print(f"{args.clients} clients x {args.calls} calls ({args.mode} era, {server}): {total} calls, {errors} errors")
    print(f"wall {elapsed:.2f} s (incl. client connects)  throughput {total / elapsed:.1f} calls/s")
    print(
        f"latency per call: p50 {percentile(latencies, 0.5):.1f} ms  p95 {percentile(latencies, 0.95):.1f} ms  "
        f"max {max(latencies):.1f} ms  mean {statistics.fmean(latencies):.1f} ms"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
