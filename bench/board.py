"""The board of a big pipeline: fill a throwaway sandbox with N deals, then measure what get_pipeline_board costs.

Prints the tool result's size (o200k tokens of the text, bytes of text and structured content) and the latency the
MCP layer adds over the raw board GET it makes (medians over R runs, in-process, no network).

Run: python bench/board.py [N=10000] [R=10]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx
from mcp import Client
from pydantic import SecretStr
from tokens import encoding

from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings

BASE = "http://sandbox"
CURRENCIES = ("USD", "EUR", "GBP")


def fill(app: object, deals: int) -> None:
    """Create `deals` deals spread over the default pipeline's stages, in one sandbox transaction."""
    from lava_crm_mcp.sandbox.db import transaction
    from lava_crm_mcp.sandbox.resources import BY_NAME

    sandbox = app.state.sandbox  # type: ignore[attr-defined]
    org = sandbox.tokens.org(f"Bearer {SANDBOX_TOKEN}")
    sandbox.provision(org)
    service = sandbox.service
    stages = [stage["id"] for stage in service.boards.pipelines(org)[0]["stages"]]
    rows = sandbox.conn.execute("SELECT id FROM records WHERE org = ? AND kind = 'accounts'", (org,))
    accounts = [ident for (ident,) in rows]
    rng = random.Random(7)
    with transaction(sandbox.conn):
        for number in range(deals):
            body = {
                "name": f"Bulk deal {number:05}",
                "amount": f"{rng.randint(1, 900) * 100}.00",
                "currency": rng.choice(CURRENCIES),
                "account": rng.choice(accounts),
                "pipeline_stage": rng.choice(stages),
            }
            service.create(BY_NAME["opportunities"], org, body)


async def median_ms(runs: int, call: Callable[[], Awaitable[object]]) -> float:
    await call()  # warm-up (caches, imports)
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def main(deals: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Path(folder) / "board.sqlite3", seed="demo")
        started = time.perf_counter()
        fill(app, deals)
        out = sys.stdout
        out.write(f"filled {deals} deals in {time.perf_counter() - started:.1f} s\n")
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        async with (
            httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as raw,
            CrmClient(Upstream(BASE, SecretStr(SANDBOX_TOKEN)), transport=transport) as crm,
            Client(build_server(Settings(), crm=crm)) as client,
        ):
            body = (await raw.get("/api/deal-pipelines/board/")).content
            result = await client.call_tool("get_pipeline_board", {})
            text = "".join(getattr(block, "text", "") for block in result.content)
            structured = json.dumps(result.structured_content, separators=(",", ":"), ensure_ascii=False)
            upstream = await median_ms(runs, lambda: raw.get("/api/deal-pipelines/board/"))
            tool = await median_ms(runs, lambda: client.call_tool("get_pipeline_board", {}))
        enc = encoding()
        out.write(f"raw board GET: {len(body):,} bytes, median {upstream:.1f} ms\n")
        out.write(
            f"get_pipeline_board: text {len(enc.encode(text)):,} o200k tokens ({len(text):,} chars), "
            f"structured {len(enc.encode(structured)):,} tokens ({len(structured):,} bytes)\n"
        )
        out.write(f"get_pipeline_board median {tool:.1f} ms: adds {tool - upstream:.1f} ms over the raw GET\n")


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    anyio.run(main, *(arguments + [10_000, 10][len(arguments) :]))
