"""Foreign-client interop check with the Python SDK 1.x (PyPI `mcp>=1.30,<2`), run from its own venv.

    python py_v1_client.py stdio <command> [args...]
    python py_v1_client.py http <url>

The same checks as ts_v1_client.mjs: tools/list (every input and output schema must pass its JSON Schema
meta-schema), search_contacts "ada", search_deals + move_deal_to_stage BY NAME, resources/list + read
lava-crm://board (the moved deal is in its new stage), prompts/list + get pipeline_review and log_follow_up. The 1.x
ClientSession validates each tool result's structuredContent against the tool's output schema (jsonschema) and
raises on a mismatch, which fails that check. One PASS/FAIL line per check; exit 1 if any failed. The whole run is
bounded by INTEROP_TIMEOUT seconds (default 60).

Not collected by pytest and not type-checked by pyright (it targets mcp 1.x, the project runs on 2.x).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from importlib.metadata import version
from typing import Any

import anyio
from jsonschema.validators import validator_for
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

BOARD_URI = "lava-crm://board"
DEAL_QUERY = "Route optimisation"  # one open deal of the sandbox's default pipeline
STAGES = ("Negotiation", "Proposal")  # move to the first, or to the second if it is already there
REQUIRED_TOOLS = ("search_contacts", "search_deals", "move_deal_to_stage")


class Checks:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.passed = 0
        self.failed: list[str] = []
        self.move: dict[str, str] | None = None

    async def run(self, name: str, fn: Callable[[], Awaitable[str]]) -> None:
        try:
            detail = await fn()
        except Exception as exc:  # any error fails this check; the others still run
            self.failed.append(name)
            print(f"{self.tag} FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        else:
            self.passed += 1
            print(f"{self.tag} PASS {name}: {detail}", flush=True)


def need(condition: object, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def short(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)[:300]


def prompt_text(result: Any) -> str:
    return "\n".join(getattr(m.content, "text", "") for m in result.messages)


async def call(session: ClientSession, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A tool call that must succeed; the session has already validated structuredContent against the schema."""
    result = await session.call_tool(name, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    need(not result.isError, f"{name} returned isError: {text[:300]}")
    need(isinstance(result.structuredContent, dict), f"{name}: no structuredContent")
    return result.structuredContent or {}


async def check_all(session: ClientSession, checks: Checks) -> None:
    async def tools() -> str:
        listed = (await session.list_tools()).tools  # caches the output schemas the session validates against
        missing = set(REQUIRED_TOOLS) - {t.name for t in listed}
        need(not missing, f"lacks {sorted(missing)}")
        schemas = [t.inputSchema for t in listed] + [t.outputSchema for t in listed if t.outputSchema]
        for schema in schemas:
            validator_for(schema).check_schema(schema)  # raises SchemaError on an invalid schema
        without = [t.name for t in listed if t.name in REQUIRED_TOOLS and not t.outputSchema]
        need(not without, f"no output schema: {without}")
        return f"{len(listed)} tools, {len(schemas)} input/output schemas valid against their meta-schema"

    async def search_contacts() -> str:
        out = await call(session, "search_contacts", {"query": "ada"})
        ada = [c for c in out.get("items", []) if (c.get("first_name"), c.get("last_name")) == ("Ada", "Lovelace")]
        need(ada, f"no Ada Lovelace in {short(out)}")
        return f"{len(out['items'])} row(s), Ada Lovelace {ada[0]['id']}; structured output valid"

    async def move() -> str:
        found = await call(session, "search_deals", {"query": DEAL_QUERY})
        items = found.get("items", [])
        need(len(items) == 1 and (items[0].get("stage") or {}).get("name"), f"expected one deal: {short(found)}")
        deal, stage = items[0], items[0]["stage"]["name"]
        to = STAGES[1] if stage == STAGES[0] else STAGES[0]
        moved = await call(session, "move_deal_to_stage", {"deal_id": deal["id"], "stage": to})
        need(moved.get("deal_id") == deal["id"] and moved.get("to_stage") == to, f"unexpected result {short(moved)}")
        need(moved.get("from_stage") == stage, f"from_stage {moved.get('from_stage')!r}, search said {stage!r}")
        checks.move = {"id": deal["id"], "to": to, "to_id": moved["to_stage_id"]}
        return f'deal {deal["id"]} "{stage}" -> "{to}"; structured output valid'

    async def board() -> str:
        uris = [str(r.uri) for r in (await session.list_resources()).resources]
        need(BOARD_URI in uris, f"resources/list lacks {BOARD_URI}: {uris}")
        contents = (await session.read_resource(BOARD_URI)).contents
        text = getattr(contents[0], "text", None) if contents else None
        need(isinstance(text, str), f"no text content: {contents!r:.300}")
        stages = json.loads(str(text)).get("stages")
        need(isinstance(stages, list) and stages, f"no stages in {str(text)[:200]}")
        if checks.move is None:
            return f"{len(stages)} stages (no move to verify)"
        deal_id, to, to_id = checks.move["id"], checks.move["to"], checks.move["to_id"]
        stage = next((s for s in stages if s.get("id") == to_id), None)
        need(stage is not None, f"stage {to!r} ({to_id}) is not on the board")
        listed = any(d.get("id") == deal_id for d in stage.get("deals") or [])
        need(listed or (stage.get("more") and stage.get("deal_count")), f"deal {deal_id} is not in {to!r}")
        return f'{len(stages)} stages; deal {deal_id} is in "{to}"'

    async def pipeline_review() -> str:
        names = [p.name for p in (await session.list_prompts()).prompts]
        need({"pipeline_review", "log_follow_up"} <= set(names), f"prompts/list: {names}")
        got = await session.get_prompt("pipeline_review", {"pipeline": "Sales Pipeline", "stalled_days": "7"})
        text = prompt_text(got)
        need("Sales Pipeline" in text and "7 days" in text, f"arguments not in the text: {text[:200]}")
        return f"{len(got.messages)} message(s), arguments rendered"

    async def log_follow_up() -> str:
        args = {"contact": "Ada Lovelace", "summary": "Demo call about the pipeline", "due_date": "2030-01-15"}
        got = await session.get_prompt("log_follow_up", args)
        text = prompt_text(got)
        need(args["contact"] in text and args["summary"] in text, f"arguments not in the text: {text[:200]}")
        return f"{len(got.messages)} message(s), arguments rendered"

    await checks.run("tools/list", tools)
    await checks.run('tools/call search_contacts "ada"', search_contacts)
    await checks.run("tools/call search_deals + move_deal_to_stage by name", move)
    await checks.run(f"resources/read {BOARD_URI}", board)
    await checks.run("prompts/list + get pipeline_review", pipeline_review)
    await checks.run("prompts/get log_follow_up", log_follow_up)


async def main(kind: str, target: list[str], checks: Checks, limit: float) -> None:
    with anyio.fail_after(limit):
        await session_checks(kind, target, checks)


async def session_checks(kind: str, target: list[str], checks: Checks) -> None:
    async with AsyncExitStack() as stack:
        if kind == "stdio":
            params = StdioServerParameters(command=target[0], args=target[1:], env=dict(os.environ))
            read, write = await stack.enter_async_context(stdio_client(params))
        else:
            read, write, _ = await stack.enter_async_context(streamable_http_client(target[0]))
        session = await stack.enter_async_context(ClientSession(read, write))
        init = await session.initialize()
        need(init.serverInfo.name == "lava-crm-mcp", f"serverInfo.name is {init.serverInfo.name!r}")
        caps = init.capabilities
        need(caps.tools and caps.resources and caps.prompts, f"capabilities lack tools/resources/prompts: {caps}")
        checks.passed += 1
        print(
            f"{checks.tag} PASS initialize: {init.serverInfo.name} {init.serverInfo.version}, "
            f"protocol {init.protocolVersion}, client mcp {version('mcp')}",
            flush=True,
        )
        await check_all(session, checks)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("stdio", "http"):
        sys.exit("usage: python py_v1_client.py stdio <command> [args...] | http <url>")
    tag = f"py_v1[{sys.argv[1]}]"
    if not version("mcp").startswith("1."):
        sys.exit(f"{tag} FAIL: needs the mcp 1.x client, found mcp {version('mcp')}")
    checks = Checks(tag)
    limit = float(os.environ.get("INTEROP_TIMEOUT", "60"))
    try:
        anyio.run(main, sys.argv[1], sys.argv[2:], checks, limit)
    except TimeoutError:
        sys.exit(f"{tag} FAIL: timed out after {limit:g} s")
    except Exception as exc:
        sys.exit(f"{tag} FAIL: {type(exc).__name__}: {exc}")
    total = checks.passed + len(checks.failed)
    if checks.failed:
        sys.exit(f"{tag} FAIL: {len(checks.failed)}/{total} checks failed: {'; '.join(checks.failed)}")
    print(f"{tag} OK: {checks.passed}/{total} checks passed")
