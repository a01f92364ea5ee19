"""A 60-contact import, before and after sync_contacts: tool calls, CRM requests and seconds.

    python bench/import_sync.py [--rows N] [--rounds R]

Starts `lava-crm-mcp sandbox` (demo data, temp db) on 127.0.0.1 and `lava-crm-mcp stdio` against it, driven by the
SDK's Client as a host would. Each round imports N fresh contacts twice: one `create_contact` call per row (what an
agent had to do before), then `sync_contacts` (the plan, then its confirmation: two calls), and once more the same
sync (nothing to do: one call). Prints the calls, the CRM requests (the sandbox's access log) and the wall time of
each, medians over rounds. Bounded: every call has a timeout; every child is stopped at the end. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import _common as common
import anyio
from mcp import Client, StdioServerParameters, stdio_client

from lava_crm_mcp.sandbox import SANDBOX_TOKEN

EXE = Path(sys.executable).parent / "lava-crm-mcp"
Rows = list[dict[str, Any]]
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


def rows(tag: str, count: int) -> Rows:
    return [
        {"first_name": "Bench", "last_name": f"{tag}{n:03}", "email": f"bench.{tag}{n:03}@example.com"}
        for n in range(count)
    ]


def checked(result: Any) -> dict[str, Any]:
    if result.is_error:
        raise RuntimeError(str(result.content[0].text)[:300])
    return dict(result.structured_content or {})


async def measure(requests: common.UpstreamLog, run: Callable[[], Awaitable[int]]) -> tuple[int, int, float]:
    """(tool calls, CRM requests, seconds) of one run."""
    requests.new_requests(METHODS)
    started = time.perf_counter()
    calls = await run()
    return calls, requests.new_requests(METHODS), time.perf_counter() - started


async def one_round(
    client: Client, requests: common.UpstreamLog, tag: str, count: int
) -> dict[str, tuple[int, int, float]]:
    async def creates() -> int:
        for row in rows(f"c{tag}", count):
            body = {"first_name": row["first_name"], "last_name": row["last_name"], "primary_email": row["email"]}
            checked(await client.call_tool("create_contact", body))
        return count

    synced = rows(f"s{tag}", count)

    async def sync() -> int:
        plan = checked(await client.call_tool("sync_contacts", {"rows": synced}))
        applied = checked(await client.call_tool("sync_contacts", {"rows": synced, "confirm": plan["confirm"]}))
        outcomes = [row["outcome"] for row in applied["rows"]]
        if outcomes != ["created"] * count:
            raise RuntimeError(f"the sync did not create every row: {sorted(set(outcomes))}")
        return 2

    async def again() -> int:
        checked(await client.call_tool("sync_contacts", {"rows": synced}))
        return 1

    return {
        f"{count} x create_contact": await measure(requests, creates),
        "sync_contacts (plan + apply)": await measure(requests, sync),
        "sync_contacts again (no-op)": await measure(requests, again),
    }


async def run(url: str, work: Path, count: int, rounds: int) -> dict[str, list[tuple[int, int, float]]]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(work),
        "LAVA_CRM_TOKEN": SANDBOX_TOKEN,
        "LAVA_CRM_BASE_URL": url,
        "LAVA_CRM_LOG_LEVEL": "WARNING",
    }
    params = StdioServerParameters(command=str(EXE), args=["stdio"], env=env)
    requests = common.UpstreamLog(work / "sandbox.log")
    results: dict[str, list[tuple[int, int, float]]] = {}
    with (work / "server.log").open("a") as errlog, anyio.fail_after(600):
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=120) as client:
            for number in range(rounds):
                for label, figures in (await one_round(client, requests, str(number), count)).items():
                    results.setdefault(label, []).append(figures)
    return results


def report(results: dict[str, list[tuple[int, int, float]]], count: int, rounds: int) -> None:
    out = sys.stdout
    out.write(f"Importing {count} contacts on the loopback sandbox, stdio server, median of {rounds} round(s):\n")
    out.write(f"{'':32} {'tool calls':>10} {'CRM requests':>13} {'seconds':>8}\n")
    for label, runs in results.items():
        calls = statistics.median(run[0] for run in runs)
        crm = statistics.median(run[1] for run in runs)
        seconds = statistics.median(run[2] for run in runs)
        out.write(f"{label:32} {calls:>10.0f} {crm:>13.0f} {seconds:>8.2f}\n")
    out.write(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lava-import-") as tmp:
        work = Path(tmp)
        sandbox, url = common.start_sandbox(EXE, work)
        try:
            results = anyio.run(run, url, work, args.rows, args.rounds)
        finally:
            common.stop(sandbox, grace=5)
            common.reap_children()
    report(results, args.rows, args.rounds)


if __name__ == "__main__":
    main()
