"""Latency of adapter calls on the in-process sandbox (httpx.ASGITransport): detail GETs, lists, a board.

Run: python bench/adapter_latency.py [N]   (prints medians and p95 in milliseconds; no assertions)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app


async def timed(label: str, runs: int, call: Callable[[], Awaitable[object]]) -> None:
    for _ in range(min(runs, 20)):  # warm-up
        await call()
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20)[18]
    sys.stdout.write(f"{label:<34} n={runs:<5} median {statistics.median(samples):6.3f} ms   p95 {p95:6.3f} ms\n")


async def main(runs: int) -> None:
    app = create_app(seed="demo")
    crm = CrmClient(Upstream("http://sandbox", SecretStr(SANDBOX_TOKEN)), transport=httpx.ASGITransport(app=app))
    async with crm:
        contact = (await crm.records("contacts").list()).items[0].id
        deal = (await crm.records("opportunities").list()).items[0].id
        await timed("contacts.get (detail GET)", runs, lambda: crm.records("contacts").get(contact))
        await timed("opportunities.get (detail GET)", runs, lambda: crm.records("opportunities").get(deal))
        await timed("contacts.list (20 rows)", runs // 5, lambda: crm.records("contacts").list())
        await timed("pipelines.board (default)", runs // 5, lambda: crm.pipelines.board())


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
