"""Our server side by side with a same-work floor, a minimal SDK server and FastMCP.from_openapi, fairly.

    python bench/compare.py [--quick] [--rounds N] [--phase S] [--deadline S] [--profile-ours FILE]

Starts `lava-crm-mcp sandbox` (demo data, temp db) and, in front of it, a replaying proxy (bench/_latency.py) with two
loopback ports: one answers at once ("direct"), one after 40 ms, like a remote CRM ("remote"). The CRM's own CPU stays
out of every figure: after a first read, each answer is replayed from memory. Against them run, as stateless JSON HTTP
servers (and, direct, over stdio too): ours (`lava-crm-mcp`), bench/peers/minimal_server.py (the minimal peer and the
same-work floor: the same upstream reads as our get_contact, side by side) and bench/peers/fastmcp_server.py (when
fastmcp is installed: `pip install -e ".[bench]"`). Measured:
  remote  get_contact at 1, 8 and 32 clients: ours vs the floor, calls/s, p50/p95, server CPU per call (/proc);
          ours with `--workers 2` at 32 clients;
  direct  stdio latency a call adds over the raw GET (get, 20-row search); HTTP 20-row search at 8 clients;
  per answered question (remote): calls, summed latency and text tokens of three everyday questions (_questions.py);
  memory  RSS after 100 calls and at the end: ours direct brought to 10,000 calls by 20-row searches (within the
          deadline), the others at the calls they served; cold start (stdio).
Rounds alternate the servers' order (3 rounds of 4 s phases); the tables give medians over rounds and the medians of
per-round ratios. The whole run takes about 3 minutes.
Bounded: a hard deadline (default 175 s; 60 s with --quick); every child is stopped at the end. Loopback only.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as common
import anyio
import httpx
from _questions import answer_all, minimal_call, openapi_call, subjects
from _report import Figures, render
from _rpc import load
from _servers import (
    BENCH,
    EXE,
    MINIMAL,
    Bench,
    Plan,
    Server,
    hold_stdio,
    preflight,
    servers,
    start,
    stdio_round,
    until_ready,
)
from cold_start import one_start

from lava_crm_mcp.sandbox import SANDBOX_TOKEN

REMOTE_MS = 40


async def gets(raw: httpx.AsyncClient) -> dict[str, int]:
    return (await raw.get("/_bench/gets")).json()


async def phase(
    bench: Bench, server: Server, role: str, clients: int, round_number: int, raw: httpx.AsyncClient
) -> None:
    """One load phase: `clients` connections calling the role's tool for plan.phase_seconds (the floor's calls are
    filed under "floor@40")."""
    port = "remote" if server.remote else "direct"
    before, server_cpu = await gets(raw), common.tree_cpu_seconds(server.http.pid)
    proxy_cpu, started = common.cpu_seconds(bench.proxy.pid), time.perf_counter()
    done = await load(
        server.url, lambda n: bench.request(server, role, n), workers=clients, seconds=bench.plan.phase_seconds
    )
    cpu = common.tree_cpu_seconds(server.http.pid) - server_cpu
    after = await gets(raw)
    server.calls += done.calls
    name = f"{'get' if role != 'search' else 'search'}@{clients}"
    upstream = after.get(bench.env[f"PORT_{port}"], 0) - before.get(bench.env[f"PORT_{port}"], 0)
    label = "floor@40" if role == "floor" else server.name
    bench.figures.http(label, name, round_number, done, upstream, cpu)
    if server.remote and clients == 32:
        spent = (common.cpu_seconds(bench.proxy.pid) - proxy_cpu) / (time.perf_counter() - started) * 100
        bench.figures.series[("proxy", "CPU %")][round_number] = spent


async def rounds(bench: Bench, raw: httpx.AsyncClient) -> None:
    s = bench.servers
    remote = [(s["ours@40"], "get"), (s["minimal@40"], "floor")]
    direct = [s[name] for name in ("ours", "minimal", "fastmcp") if name in s]
    for round_number in range(bench.plan.rounds):
        turn = round_number % 2
        for server in direct[turn:] + direct[:turn]:
            for kind, (raw_p50, p50, p95) in (await stdio_round(bench, server, raw)).items():
                bench.figures.stdio(server.name, kind, round_number, raw_p50, p50, p95)
        for server in direct[turn:] + direct[:turn]:
            if server.name != "fastmcp":  # its search is measured over stdio; the HTTP target is vs minimal
                await phase(bench, server, "search", 8, round_number, raw)
        for clients in (1, 8, 32) if turn == 0 else (32, 8, 1):
            for server, role in remote[turn:] + remote[:turn]:
                await phase(bench, server, role, clients, round_number, raw)
        if "ours 2 workers@40" in s:
            await phase(bench, s["ours 2 workers@40"], "get", 32, round_number, raw)


async def questions(bench: Bench) -> None:
    s = bench.servers
    async with httpx.AsyncClient(
        base_url=bench.direct_url, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    ) as raw:
        rows = [(await raw.get(f"/api/{r}/?limit=200")).json()["results"] for r in ("opportunities", "tasks", "cases")]
    about = subjects(*rows)
    asked: dict[str, Any] = {
        "ours@40": (s["ours@40"].url, about.ours),
        "minimal@40": (s["minimal@40"].url, lambda q: [minimal_call(step) for step in about.steps(q)]),
    }
    if "fastmcp@40" in s:
        call = openapi_call(bench.spec, s["fastmcp@40"].named)
        asked["fastmcp@40"] = (s["fastmcp@40"].url, lambda q: [call(step) for step in about.steps(q)])
    bench.figures.answers = await answer_all(asked, bench.plan.reps)


async def memory(bench: Bench, until: float) -> None:
    """Bring our direct server to `plan.rss_calls` calls (20-row searches at 8 clients, the cheapest; within the
    deadline), then read the RSS of every server measured after its first 100 calls, at the calls it served."""
    ours = bench.servers["ours"]
    remaining = max(0, bench.plan.rss_calls - ours.calls)
    seconds = max(1.0, until - time.monotonic())
    done = await load(ours.url, lambda n: bench.request(ours, "search", n), count=remaining, seconds=seconds)
    ours.calls += done.calls
    bench.figures.failed(ours.name, done)
    for name in bench.figures.rss:
        server = bench.servers[name]
        bench.figures.rss[name].append((server.calls, common.rss_mib(server.http.pid)))


def cold(bench: Bench) -> None:
    base = {key: value for key, value in os.environ.items() if not key.startswith("LAVA_")}
    crm = {"LAVA_CRM_BASE_URL": "http://127.0.0.1:9", "LAVA_CRM_TOKEN": "bench-token-never-sent"}
    runs = [("ours", [str(EXE), "stdio"]), ("minimal", [sys.executable, str(MINIMAL), "stdio"])]
    for pair in range(bench.plan.cold_pairs):
        for name, command in runs if pair % 2 == 0 else runs[::-1]:
            bench.figures.cold[name].append(one_start(command, {**base, **crm})[1] * 1000)


async def warm(bench: Bench) -> None:
    """Every server ready, checked, and past its first calls (lazy imports, first connections, caches filled)."""
    for server in list(bench.servers.values()):
        try:
            await until_ready(server, bench.work / f"{server.name}-http.log")
        except RuntimeError as exc:
            if "workers" not in server.name:
                raise
            bench.figures.notes.append(f"{server.name} left out: {str(exc).splitlines()[-1]}")
            del bench.servers[server.name]
            continue
        await preflight(bench, server)
        roles = [role for role in ("get", "floor", "search") if role in server.tools]
        done = await load(
            server.url, lambda n, s=server, r=roles: bench.request(s, r[n % len(r)], n // len(r)), count=100
        )
        server.calls += done.calls
        bench.figures.failed(server.name, done)
        if server.name in ("ours", "minimal", "ours@40", "minimal@40"):
            bench.figures.rss[server.name].append((server.calls, common.rss_mib(server.http.pid)))


async def run(bench: Bench, end: float) -> None:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    done = anyio.Event()
    async with httpx.AsyncClient(base_url=bench.direct_url, headers=headers) as raw, anyio.create_task_group() as tasks:
        bench.spec = (await raw.get("/api/openapi.json")).json()
        bench.ids = [row["id"] for row in (await raw.get("/api/contacts/?limit=20")).json()["results"]]
        readies = []
        for server in bench.servers.values():
            if not server.remote:
                ready = anyio.Event()
                readies.append((server, ready))
                tasks.start_soon(hold_stdio, bench, server, ready, done)
        await warm(bench)
        for server, ready in readies:
            await ready.wait()
            assert server.stdio is not None
            for number in range(3):
                for kind in ("get", "search"):
                    await server.stdio.call_tool(*bench.request(server, kind, number))
        sections = [("warm-up", time.monotonic())]
        await rounds(bench, raw)
        sections.append(("rounds", time.monotonic()))
        await questions(bench)
        sections.append(("questions", time.monotonic()))
        await memory(bench, until=end - 10)
        sections.append(("memory top-up", time.monotonic()))
        done.set()
    await anyio.to_thread.run_sync(cold, bench)
    sections.append(("cold start", time.monotonic()))
    spent = ", ".join(f"{b[0]} {b[1] - a[1]:.0f} s" for a, b in itertools.pairwise(sections))
    bench.figures.notes.append(f"sections: {spent}")


async def bounded(bench: Bench, end: float) -> bool:
    """`run` under the hard deadline; False if the deadline cut it short."""
    with anyio.move_on_after(max(1.0, end - time.monotonic())) as scope:
        await run(bench, end)
    return not scope.cancelled_caught


def describe(exc: BaseException) -> str:
    """The first real error inside (task groups wrap theirs)."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def plan_from(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(args.rounds or 1, args.phase or 2.0, 10, 2, 2_000, 2, args.deadline or 60)
    return Plan(args.rounds or 3, args.phase or 4.0, 20, 5, 10_000, 3, args.deadline or 175)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 2 s phases, RSS after 2,000 calls (≤ 1 min)")
    parser.add_argument("--rounds", type=int, help="rounds of alternating runs (default 3; 1 with --quick)")
    parser.add_argument("--phase", type=float, help="seconds per load phase (default 4; 2 with --quick)")
    parser.add_argument("--deadline", type=float, help="hard bound on the whole run in seconds (default 175)")
    parser.add_argument(
        "--profile-ours", metavar="FILE", help="run our remote HTTP server under cProfile, stats to FILE"
    )
    args = parser.parse_args()
    plan = plan_from(args)
    started, end = time.monotonic(), time.monotonic() + plan.deadline
    figures = Figures(plan, os.getloadavg(), os.cpu_count() or 0)
    processes: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="lava-compare-") as tmp:
        work = Path(tmp)
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(work),
            "LAVA_CRM_TOKEN": SANDBOX_TOKEN,
            "LAVA_CRM_LOG_LEVEL": "WARNING",
            "FASTMCP_CHECK_FOR_UPDATES": "off",
            "FASTMCP_SHOW_SERVER_BANNER": "false",
        }
        bench = Bench(plan, servers(importlib.util.find_spec("fastmcp") is not None), figures, env, work)
        try:
            sandbox, url = common.start_sandbox(EXE, work)
            processes.append(sandbox)
            ports = (common.free_port(), common.free_port())
            env["PORT_direct"], env["PORT_remote"] = str(ports[0]), str(ports[1])
            listen = ["--listen", f"{ports[0]}:0", "--listen", f"{ports[1]}:{REMOTE_MS}"]
            bench.proxy = common.spawn(
                [sys.executable, str(BENCH / "_latency.py"), "--upstream", url, *listen], env, work / "proxy.log"
            )
            processes.append(bench.proxy)
            bench.direct_url = f"http://127.0.0.1:{ports[0]}"
            common.wait_until(lambda: _answers(f"{bench.direct_url}/_bench/gets"), bench.proxy, work / "proxy.log", 30)
            start(bench, ports, args.profile_ours)
            processes += [server.http for server in bench.servers.values()]
            figures.complete = anyio.run(bounded, bench, end)
        except Exception as exc:  # report what was measured, then the failure
            figures.failure = describe(exc)
        finally:
            for process in processes:
                common.stop(process, grace=5)
            common.reap_children()
    if "fastmcp" not in bench.servers:
        figures.notes.append("fastmcp is not installed (pip install -e '.[bench]'): its columns are left out")
    figures.load_end, figures.elapsed = os.getloadavg(), time.monotonic() - started
    sys.stdout.write(render(figures))
    valid = figures.complete and figures.failure is None and not figures.short_of_rss_calls()
    return 0 if valid and not any(figures.errors.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
