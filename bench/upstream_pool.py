"""CPU per upstream GET at 8, 24 and 96 reads in flight: one httpx pool against the CRM client's small pools.

    python bench/upstream_pool.py [--seconds 4]

Starts a throwaway sandbox behind the replaying proxy (bench/_latency.py, 40 ms per answer, loopback) and reads
three list URLs from N concurrent tasks, one after another, for a few seconds each: with one httpx.AsyncClient
(the pool the client had before: 50 connections, 20 kept alive; and one of 128), and with lava_crm_mcp.crm.pool.Pools
(8 pools of 16) sent to straight as the client's Exchange does. Prints the process CPU per GET. Target (issue 23):
at 24 in flight at most 1.2x the CPU per GET at 8.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import _common as common
import httpx

from lava_crm_mcp.crm.pool import Pools
from lava_crm_mcp.sandbox import SANDBOX_TOKEN

EXE = Path(sys.executable).parent / "lava-crm-mcp"
PATHS = ("/api/contacts/?limit=20", "/api/tasks/?limit=20", "/api/opportunities/?limit=20")
HEADERS = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
Get = Callable[[str], Awaitable[None]]


def one_pool(connections: int, alive: int) -> Callable[[], tuple[Get, Callable[[], Awaitable[None]]]]:
    def make() -> tuple[Get, Callable[[], Awaitable[None]]]:
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=connections, max_keepalive_connections=alive))

        async def get(url: str) -> None:
            response = await client.send(client.build_request("GET", url, headers=HEADERS), stream=True)
            await response.aread()
            await response.aclose()

        return get, client.aclose

    return make


def pools() -> tuple[Get, Callable[[], Awaitable[None]]]:
    transport = Pools()
    client = httpx.AsyncClient(transport=transport)

    async def get(url: str) -> None:
        request = client.build_request("GET", url, headers=HEADERS)
        response = await transport.handle_async_request(request)
        response.request = request
        await response.aread()
        await response.aclose()

    return get, client.aclose


async def cpu_per_get(
    make: Callable[[], tuple[Get, Callable[[], Awaitable[None]]]], base: str, tasks: int, seconds: float
) -> float:
    get, close = make()
    done = 0

    async def worker(number: int, end: float) -> None:
        nonlocal done
        while time.perf_counter() < end:
            await get(base + PATHS[number % len(PATHS)])
            done += 1

    await asyncio.gather(*(worker(n, time.perf_counter() + 1) for n in range(tasks)))  # connections opened
    done, started = 0, time.process_time()
    await asyncio.gather(*(worker(n, time.perf_counter() + seconds) for n in range(tasks)))
    spent = time.process_time() - started
    await close()
    return spent * 1000 / max(done, 1)


async def measure(base: str, seconds: float) -> None:
    lines = []
    for label, make in (
        ("one pool, 50/20", one_pool(50, 20)),
        ("one pool, 128", one_pool(128, 128)),
        ("Pools 8x16", pools),
    ):
        figures = {tasks: await cpu_per_get(make, base, tasks, seconds) for tasks in (8, 24, 96)}
        ratio = figures[24] / figures[8]
        cells = "  ".join(f"{tasks:>2} in flight {ms:6.3f} ms" for tasks, ms in figures.items())
        lines.append(f"{label:16} {cells}   24/8 = {ratio:.2f} ({'ok' if ratio <= 1.2 else 'MISS'} ≤ 1.2)")
    sys.stdout.write("CPU per upstream GET (40 ms upstream on loopback)\n" + "\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per measurement (default 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lava-pool-") as tmp:
        work = Path(tmp)
        processes = []
        try:
            sandbox, url = common.start_sandbox(EXE, work)
            processes.append(sandbox)
            port = common.free_port()
            proxy = [
                sys.executable,
                str(Path(__file__).parent / "_latency.py"),
                "--upstream",
                url,
                "--listen",
                f"{port}:40",
            ]
            processes.append(common.spawn(proxy, {"PATH": ""}, work / "proxy.log"))
            base = f"http://127.0.0.1:{port}"
            common.wait_until(lambda: _answers(base), processes[-1], work / "proxy.log", 30)
            try:
                import uvloop

                uvloop.run(measure(base, args.seconds))
            except ImportError:
                asyncio.run(measure(base, args.seconds))
        finally:
            for process in processes:
                common.stop(process, grace=5)
    return 0


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/_bench/gets", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    sys.exit(main())
