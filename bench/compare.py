"""Our server side by side with a minimal SDK server and FastMCP.from_openapi, on one throwaway sandbox.

    python bench/compare.py [--quick] [--rounds N] [--deadline S] [--minimal-peer PATH] [--profile-ours FILE]

Starts `lava-crm-mcp sandbox` (demo data, temp db) on 127.0.0.1 and, against it, three servers, each once over
stdio and once over stateless JSON HTTP: ours (`lava-crm-mcp`), bench/peers/minimal_server.py and
bench/peers/fastmcp_server.py (left out when fastmcp is not installed: `pip install -e ".[bench]"`). For each:
  stdio   latency a tool call adds over the raw GET it stands for (get by id, a 20-row search), SDK client,
          the raw GET (httpx, straight to the sandbox) measured interleaved with the calls;
  HTTP    calls/s and p50/p95 at 8 concurrent clients (bench/_rpc.py: raw tools/call POSTs, unique ids);
  RSS     of the HTTP process after 100 and after 10,000 calls; upstream GETs per call (the sandbox's log);
  tokens  of the model-visible catalog (o200k of name+description+inputSchema, offline as bench/tokens.py).
Rounds alternate the servers' order; the table gives medians over rounds and the median of per-round ratios.
Bounded: a hard deadline (default 170 s, 55 s with --quick); every child is stopped at the end. Loopback only.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common as common
import anyio
import httpx
from _report import Figures, render
from _rpc import Connection, Request, list_tools, load
from mcp import Client, StdioServerParameters, stdio_client

from lava_crm_mcp.sandbox import SANDBOX_TOKEN

BENCH = Path(__file__).resolve().parent
EXE = Path(sys.executable).parent / "lava-crm-mcp"
KINDS = ("get", "search")
RAW_SEARCH = "/api/contacts/?search="
START_SECONDS = 60
SEARCH_ALL: Request = ("search_contacts", {"query": ""})


@dataclass(frozen=True)
class Plan:
    rounds: int
    phase_seconds: float
    stdio_pairs: int
    rss_calls: int
    deadline: float


@dataclass
class Peer:
    """One server under test: how to start it, and its two equivalent tools."""

    name: str
    command: list[str]
    get_tool: str
    id_argument: str
    search: Request
    url: str = ""
    http: Any = None  # subprocess.Popen of the HTTP server
    stdio: Client | None = None
    calls: int = 0  # tools/call sent to the HTTP process so far
    ids: list[str] = field(default_factory=list)

    def request(self, kind: str, number: int) -> Request:
        if kind == "get":
            return self.get_tool, {self.id_argument: self.ids[number % len(self.ids)]}
        return self.search


def peers(minimal: Path) -> list[Peer]:
    found = [
        Peer("ours", [str(EXE)], "get_contact", "contact_id", ("search_contacts", {"limit": 20})),
        Peer("minimal", [sys.executable, str(minimal)], "get_contact", "contact_id", SEARCH_ALL),
    ]
    if importlib.util.find_spec("fastmcp") is not None:
        found.append(Peer("fastmcp", [sys.executable, str(BENCH / "peers" / "fastmcp_server.py")], "", "id", ("", {})))
    return found


def openapi_tools(peer: Peer, tools: list[dict[str, Any]], spec: dict[str, Any]) -> None:
    """fastmcp names its tools from each operation's summary: find the two that match our tools' GETs."""
    summaries = {path: spec["paths"][path]["get"]["summary"] for path in ("/api/contacts/{id}/", "/api/contacts/")}
    named = {tool["description"].split("\n")[0]: tool["name"] for tool in tools}
    peer.get_tool = named[summaries["/api/contacts/{id}/"]]
    peer.search = (named[summaries["/api/contacts/"]], {})


async def preflight(peer: Peer, figures: Figures, spec: dict[str, Any]) -> None:
    """Catalog tokens; the calls work without a session and answer JSON, with no session id; rows per search."""
    tools = await list_tools(peer.url)
    if peer.name == "fastmcp":
        openapi_tools(peer, tools, spec)
    figures.catalog(peer.name, tools, (peer.get_tool, peer.search[0]))
    connection = Connection(peer.url)
    init = await connection.rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}})
    replies = [await connection.rpc("tools/call", {"name": n, "arguments": a}) for n, a in peer_calls(peer)]
    await connection.close()
    peer.calls += len(replies)
    stateless = all(
        reply.ok() and reply.headers.get("content-type", "").startswith("application/json") for reply in replies
    ) and not any("mcp-session-id" in reply.headers for reply in (init, *replies))
    if not stateless:
        raise RuntimeError(f"{peer.name} is not stateless JSON: {init.headers} {replies[0].body[:300]!r}")
    figures.stateless.append(peer.name)
    structured = replies[-1].json()["result"].get("structuredContent") or {}
    figures.rows[peer.name] = max((len(v) for v in structured.values() if isinstance(v, list)), default=0)


def peer_calls(peer: Peer) -> list[Request]:
    return [peer.request("get", 0), peer.request("search", 0)]


async def stdio_round(peer: Peer, raw: httpx.AsyncClient, pairs: int) -> dict[str, tuple[float, float, float]]:
    """Per kind: median raw GET, and the tool call's p50 and p95 (ms); raw GETs and calls alternate."""
    assert peer.stdio is not None
    out: dict[str, tuple[float, float, float]] = {}
    for kind in KINDS:
        raws: list[float] = []
        calls: list[float] = []
        for number in range(pairs):
            url = f"/api/contacts/{peer.ids[number % len(peer.ids)]}/" if kind == "get" else RAW_SEARCH
            name, arguments = peer.request(kind, number)
            for step in (0, 1) if number % 2 else (1, 0):
                started = time.perf_counter()
                if step == 0:
                    (await raw.get(url)).raise_for_status()
                else:
                    result = await peer.stdio.call_tool(name, arguments)
                    assert not result.is_error, result.content
                (raws if step == 0 else calls).append((time.perf_counter() - started) * 1000)
        out[kind] = (common.median(raws), common.median(calls), common.percentile(calls, 0.95))
    return out


def mix(peer: Peer) -> Callable[[int], Request]:
    """Get and search calls, alternating."""
    return lambda number: peer.request(KINDS[number % 2], number // 2)


async def rounds(
    plan: Plan, group: list[Peer], figures: Figures, raw: httpx.AsyncClient, log: common.UpstreamLog
) -> None:
    for round_number in range(plan.rounds):
        shift = round_number % len(group)
        order = group[shift:] + group[:shift]
        for peer in order:
            for kind, (raw_p50, p50, p95) in (await stdio_round(peer, raw, plan.stdio_pairs)).items():
                figures.stdio(peer.name, kind, round_number, raw_p50, p50, p95)
        for peer in order:
            for kind in KINDS if round_number % 2 == 0 else KINDS[::-1]:
                log.new_gets()
                server, client = common.cpu_seconds(peer.http.pid), time.process_time()
                phase = await load(peer.url, lambda n, p=peer, k=kind: p.request(k, n), seconds=plan.phase_seconds)
                cpu = (common.cpu_seconds(peer.http.pid) - server, time.process_time() - client)
                peer.calls += phase.calls
                figures.http(peer.name, kind, round_number, phase, log.new_gets(), cpu)


async def memory(plan: Plan, group: list[Peer], figures: Figures, until: float) -> None:
    """Bring every HTTP server to `plan.rss_calls` calls (all at once: RSS is not a timing), then read its RSS."""

    async def top_up(peer: Peer) -> None:
        remaining = max(0, plan.rss_calls - peer.calls)
        phase = await load(peer.url, mix(peer), count=remaining, seconds=max(1.0, until - time.monotonic()))
        peer.calls += phase.calls
        figures.failed(peer.name, phase)

    async with anyio.create_task_group() as tasks:
        for peer in group:
            tasks.start_soon(top_up, peer)
    for peer in group:
        figures.rss_after(peer.name, peer.calls, common.rss_mib(peer.http.pid))


async def hold_stdio(peer: Peer, env: dict[str, str], log: Path, ready: anyio.Event, done: anyio.Event) -> None:
    params = StdioServerParameters(command=peer.command[0], args=[*peer.command[1:], "stdio"], env=env)
    with log.open("a") as errlog:
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=30, cache=None) as client:
            peer.stdio = client
            ready.set()
            await done.wait()
        peer.stdio = None


async def until_ready(peer: Peer, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if (await Connection(peer.url).rpc("tools/list", {})).status == 200:
                return
        except OSError:
            pass
        if peer.http.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{peer.name} did not start:\n{(await anyio.Path(log).read_text())[-3000:]}")
        await anyio.sleep(0.1)


async def bench(plan: Plan, group: list[Peer], figures: Figures, env: dict[str, str], work: Path, end: float) -> None:
    sandbox = common.loopback(env["LAVA_CRM_BASE_URL"])
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    done = anyio.Event()
    async with httpx.AsyncClient(base_url=sandbox, headers=headers) as raw, anyio.create_task_group() as tasks:
        spec = (await raw.get("/api/openapi.json")).json()
        ids = [row["id"] for row in (await raw.get(RAW_SEARCH)).json()["results"]]
        readies = []
        for peer in group:
            peer.ids, ready = ids, anyio.Event()
            readies.append(ready)
            tasks.start_soon(hold_stdio, peer, env, work / f"{peer.name}-stdio.log", ready, done)
        for peer in group:
            await until_ready(peer, work / f"{peer.name}-http.log")
            await preflight(peer, figures, spec)
            phase = await load(peer.url, mix(peer), count=max(0, 100 - peer.calls))
            peer.calls += phase.calls
            figures.rss_after(peer.name, peer.calls, common.rss_mib(peer.http.pid))
        for peer, ready in zip(group, readies, strict=True):
            await ready.wait()
            for number in range(3):  # warm-up: lazy imports, first connections
                for kind in KINDS:
                    assert peer.stdio is not None
                    await peer.stdio.call_tool(*peer.request(kind, number))
        await rounds(plan, group, figures, raw, common.UpstreamLog(work / "sandbox.log"))
        await memory(plan, group, figures, until=end - 12)
        done.set()


def start(group: list[Peer], env: dict[str, str], work: Path, profile: str | None) -> None:
    for peer in group:
        port = common.free_port()
        peer.url = common.loopback(f"http://127.0.0.1:{port}/mcp")
        prefix = [sys.executable, "-m", "cProfile", "-o", profile] if profile and peer.name == "ours" else []
        args = [*prefix, *peer.command, "http", "--host", "127.0.0.1", "--port", str(port)]
        peer.http = common.spawn(args, env, work / f"{peer.name}-http.log")


async def bounded(plan: Plan, group: list[Peer], figures: Figures, env: dict[str, str], work: Path, end: float) -> bool:
    """`bench` under the hard deadline; False if the deadline cut it short."""
    with anyio.move_on_after(max(1.0, end - time.monotonic())) as scope:
        await bench(plan, group, figures, env, work, end)
    return not scope.cancelled_caught


def describe(exc: BaseException) -> str:
    """The first real error inside (task groups wrap theirs)."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def plan_from(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(args.rounds or 1, 1.0, 10, 2_000, args.deadline or 55)
    return Plan(args.rounds or 3, 2.0, 25, 10_000, args.deadline or 170)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, short phases, RSS after 2,000 calls (≤ 1 min)")
    parser.add_argument("--rounds", type=int, help="rounds of alternating runs (default 3; 1 with --quick)")
    parser.add_argument("--deadline", type=float, help="hard bound on the whole run in seconds (default 170)")
    parser.add_argument("--minimal-peer", type=Path, default=BENCH / "peers" / "minimal_server.py")
    parser.add_argument("--profile-ours", metavar="FILE", help="run our HTTP server under cProfile, stats to FILE")
    args = parser.parse_args()
    plan = plan_from(args)
    started, end = time.monotonic(), time.monotonic() + plan.deadline
    group = peers(args.minimal_peer)
    figures = Figures([peer.name for peer in group], plan, os.getloadavg(), os.cpu_count() or 0)
    processes: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="lava-compare-") as tmp:
        work = Path(tmp)
        try:
            sandbox, url = common.start_sandbox(EXE, work)
            processes.append(sandbox)
            env = {
                "PATH": os.environ.get("PATH", os.defpath),
                "HOME": str(work),
                "LAVA_CRM_TOKEN": SANDBOX_TOKEN,
                "LAVA_CRM_BASE_URL": url,
                "LAVA_CRM_LOG_LEVEL": "WARNING",
                "FASTMCP_CHECK_FOR_UPDATES": "off",
                "FASTMCP_SHOW_SERVER_BANNER": "false",
            }
            start(group, env, work, args.profile_ours)
            processes += [peer.http for peer in group]
            figures.complete = anyio.run(bounded, plan, group, figures, env, work, end)
        except Exception as exc:  # report what was measured, then the failure
            figures.failure = describe(exc)
        finally:
            for process in processes:
                common.stop(process, grace=5)
            common.reap_children()
    tools = {f"{p.name} ({Path(p.command[-1]).name})": (p.get_tool, p.search[0]) for p in group}
    figures.finish(os.getloadavg(), time.monotonic() - started, tools)
    sys.stdout.write(render(figures))
    valid = figures.complete and figures.failure is None and not figures.short_of_rss_calls()
    return 0 if valid and not any(figures.errors.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
