"""The servers bench/compare.py measures: what each is, how it starts, how it is checked, and its stdio twin."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common as common
import anyio
import httpx
from _report import Figures
from _rpc import Connection, Request, list_tools
from mcp import Client, StdioServerParameters, stdio_client

BENCH = Path(__file__).resolve().parent
EXE = Path(sys.executable).parent / "lava-crm-mcp"
MINIMAL = BENCH / "peers" / "minimal_server.py"
FASTMCP = BENCH / "peers" / "fastmcp_server.py"
START_SECONDS = 60
QUESTION_TOOLS = ("floor_", "get_record", "list_records")


@dataclass(frozen=True)
class Plan:
    rounds: int
    phase_seconds: float
    stdio_pairs: int
    reps: int
    rss_calls: int
    cold_pairs: int
    deadline: float


@dataclass
class Server:
    """One HTTP server under test (and, for direct ones, its stdio twin)."""

    name: str
    command: list[str]
    remote: bool
    url: str = ""
    http: Any = None  # subprocess.Popen
    stdio: Client | None = None
    calls: int = 0
    tools: dict[str, str] = field(default_factory=dict)  # role ("get", "search", "floor") -> tool name
    named: dict[str, str] = field(default_factory=dict)  # fastmcp: operation summary -> tool name


@dataclass
class Bench:
    plan: Plan
    servers: dict[str, Server]
    figures: Figures
    env: dict[str, str]
    work: Path
    ids: list[str] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)
    proxy: Any = None
    direct_url: str = ""

    def request(self, server: Server, role: str, number: int) -> Request:
        if role == "search":
            return server.tools["search"], {"limit": 20} if server.name.startswith("ours") else {}
        key = "contact_id" if server.tools[role] in ("get_contact",) else "id"
        return server.tools[role], {key: self.ids[number % len(self.ids)]}


def servers(with_fastmcp: bool) -> dict[str, Server]:
    ours, minimal, fastmcp = [str(EXE)], [sys.executable, str(MINIMAL)], [sys.executable, str(FASTMCP)]
    found = [
        Server("ours", ours, False, tools={"get": "get_contact", "search": "search_contacts"}),
        Server("minimal", minimal, False, tools={"get": "get_contact", "search": "search_contacts"}),
        Server("ours@40", ours, True, tools={"get": "get_contact", "search": "search_contacts"}),
        Server("ours 2 workers@40", [*ours, "--workers", "2"], True, tools={"get": "get_contact"}),
        Server("minimal@40", minimal, True, tools={"get": "get_contact", "floor": "floor_get_contact"}),
    ]
    if with_fastmcp:
        found += [Server("fastmcp", fastmcp, False), Server("fastmcp@40", fastmcp, True)]
    return {server.name: server for server in found}


def start(bench: Bench, ports: tuple[int, int], profile: str | None) -> None:
    for server in bench.servers.values():
        port = common.free_port()
        server.url = common.loopback(f"http://127.0.0.1:{port}/mcp")
        env = {**bench.env, "LAVA_CRM_BASE_URL": f"http://127.0.0.1:{ports[server.remote]}"}
        prefix = [sys.executable, "-m", "cProfile", "-o", profile] if profile and server.name == "ours@40" else []
        tail = server.command[1:] if server.command[0] == str(EXE) else server.command[2:]
        head = server.command[:1] if server.command[0] == str(EXE) else server.command[:2]
        args = [*prefix, *head, "http", "--host", "127.0.0.1", "--port", str(port), *tail]
        server.http = common.spawn(args, env, bench.work / f"{server.name}-http.log")


async def until_ready(server: Server, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if (await Connection(server.url).rpc("tools/list", {})).status == 200:
                return
        except OSError:
            pass
        if server.http.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not start:\n{(await anyio.Path(log).read_text())[-3000:]}")
        await anyio.sleep(0.1)


async def preflight(bench: Bench, server: Server) -> None:
    """Catalog tokens; calls work without a session and answer JSON with no session id; rows per search."""
    tools = await list_tools(server.url)
    if server.name.startswith("fastmcp"):
        named = {tool["description"].split("\n")[0]: tool["name"] for tool in tools}
        summary = {
            path: bench.spec["paths"][path]["get"]["summary"] for path in ("/api/contacts/{id}/", "/api/contacts/")
        }
        server.tools = {"get": named[summary["/api/contacts/{id}/"]], "search": named[summary["/api/contacts/"]]}
        server.named = named
    if not server.remote:
        extra = QUESTION_TOOLS if server.name == "minimal" else ()
        bench.figures.catalog(server.name, [t for t in tools if not t["name"].startswith(extra)])
    connection = Connection(server.url)
    init = await connection.rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}})
    roles = [role for role in ("get", "search", "floor") if role in server.tools]
    replies = [
        await connection.rpc("tools/call", {"name": n, "arguments": a})
        for n, a in (bench.request(server, r, 0) for r in roles)
    ]
    await connection.close()
    server.calls += len(replies)
    stateless = all(r.ok() and r.headers.get("content-type", "").startswith("application/json") for r in replies)
    if not stateless or any("mcp-session-id" in reply.headers for reply in (init, *replies)):
        raise RuntimeError(f"{server.name} is not stateless JSON: {init.headers} {replies[0].body[:300]!r}")
    bench.figures.stateless.append(server.name)
    if "search" in server.tools and not server.remote:
        structured = replies[roles.index("search")].json()["result"].get("structuredContent") or {}
        bench.figures.rows[server.name] = max((len(v) for v in structured.values() if isinstance(v, list)), default=0)


async def hold_stdio(bench: Bench, server: Server, ready: anyio.Event, done: anyio.Event) -> None:
    env = {**bench.env, "LAVA_CRM_BASE_URL": bench.direct_url}
    params = StdioServerParameters(command=server.command[0], args=[*server.command[1:], "stdio"], env=env)
    with (bench.work / f"{server.name}-stdio.log").open("a") as errlog:
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=30, cache=None) as client:
            server.stdio = client
            ready.set()
            await done.wait()
        server.stdio = None


async def stdio_round(bench: Bench, server: Server, raw: httpx.AsyncClient) -> dict[str, tuple[float, float, float]]:
    """Per kind: median raw GET, and the tool call's p50 and p95 (ms); raw GETs and calls alternate."""
    assert server.stdio is not None
    out: dict[str, tuple[float, float, float]] = {}
    for kind in ("get", "search"):
        raws: list[float] = []
        calls: list[float] = []
        for number in range(bench.plan.stdio_pairs):
            url = f"/api/contacts/{bench.ids[number % len(bench.ids)]}/" if kind == "get" else "/api/contacts/?limit=20"
            name, arguments = bench.request(server, kind, number)
            for step in (0, 1) if number % 2 else (1, 0):
                started = time.perf_counter()
                if step == 0:
                    (await raw.get(url)).raise_for_status()
                else:
                    result = await server.stdio.call_tool(name, arguments)
                    assert not result.is_error, result.content
                (raws if step == 0 else calls).append((time.perf_counter() - started) * 1000)
        out[kind] = (common.median(raws), common.median(calls), common.percentile(calls, 0.95))
    return out
