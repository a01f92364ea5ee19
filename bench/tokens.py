"""Count, offline, the o200k tokens a model sees: per tool, the whole tools/list, and a 20-row page of each search.

Run: python bench/tokens.py   (prints tables; exits 1 if a budget is exceeded)
The board of a 10,000-deal pipeline is measured by bench/board.py.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client
from pydantic import SecretStr

from lava_crm_mcp.crm import CrmClient, Upstream
from lava_crm_mcp.sandbox import SANDBOX_TOKEN, create_app
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings

CATALOG_BUDGET = 8_000
PER_TOOL_BUDGET = 170
# A 20-row page: deal rows carry probability, the close date and when the deal last changed (stalled-deal questions
# in one call), so they may take a little more.
SEARCH_RESULT_BUDGET = 1_200
SEARCH_RESULT_BUDGETS = {"deals": 1_350}
SEARCHES = ("contacts", "accounts", "leads", "deals", "tasks", "cases", "invoices")
TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/"  # only tiktoken's cache key


def encoding() -> Any:
    """tiktoken's o200k_base, loaded offline from the BPE file that bpe-openai ships (hash-checked by tiktoken)."""
    cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(tempfile.gettempdir()) / "lava-tiktoken")))
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / hashlib.sha1(f"{TIKTOKEN_URL}o200k_base.tiktoken".encode()).hexdigest()  # noqa: S324
    if not target.exists():
        packed = importlib.resources.files("bpe_openai.data") / "o200k_base.tiktoken.gz"
        target.write_bytes(gzip.decompress(packed.read_bytes()))
    import tiktoken

    return tiktoken.get_encoding("o200k_base")


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def model_view(tool: dict[str, Any]) -> dict[str, Any]:
    """What a model is shown of a tool: name, description and input schema."""
    return {"name": tool["name"], "description": tool.get("description"), "inputSchema": tool["inputSchema"]}


async def measure() -> dict[str, Any]:
    crm = CrmClient(
        Upstream("http://sandbox", SecretStr(SANDBOX_TOKEN)), transport=httpx.ASGITransport(app=create_app(seed="demo"))
    )
    async with Client(build_server(Settings(), crm=crm)) as client:
        tools = [
            tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in (await client.list_tools()).tools
        ]
        searches: dict[str, tuple[str, int]] = {}
        for noun in SEARCHES:
            result = await client.call_tool(f"search_{noun}", {"limit": 20})
            text = "".join(getattr(block, "text", "") for block in result.content)
            searches[noun] = (text, len((result.structured_content or {}).get("items", [])))
    return {"tools": tools, "searches": searches}


def per_twenty_rows(enc: Any, text: str, rows: int) -> int:
    """Tokens of a search page, scaled to 20 rows when the demo has fewer (header counted once)."""
    head, *lines = text.splitlines()
    body = sum(len(enc.encode(line)) + 1 for line in lines[1:])
    fixed = len(enc.encode(head)) + len(enc.encode(lines[0] if lines else ""))
    return fixed + round(body * 20 / max(rows, 1))


def main() -> int:
    enc = encoding()
    data = anyio.run(measure)
    tools = data["tools"]
    per_tool = {tool["name"]: len(enc.encode(compact(model_view(tool)))) for tool in tools}
    visible = len(enc.encode(compact({"tools": [model_view(tool) for tool in tools]})))
    payload = len(enc.encode(compact({"tools": tools})))
    average = sum(per_tool.values()) / len(per_tool)
    width = max(map(len, per_tool))
    out = sys.stdout
    out.write(f"{'tool':<{width}}  o200k (name+description+inputSchema)\n")
    for name, count in per_tool.items():
        out.write(f"{name:<{width}}  {count:>5}\n")
    checks = [
        ("model-visible catalog", visible, CATALOG_BUDGET),
        ("average per tool", round(average, 1), PER_TOOL_BUDGET),
    ]
    for noun, (text, rows) in data["searches"].items():
        label = f"search_{noun} text, 20 rows" + (f" (from {rows} demo rows)" if rows < 20 else "")
        checks.append((label, per_twenty_rows(enc, text, rows), SEARCH_RESULT_BUDGETS.get(noun, SEARCH_RESULT_BUDGET)))
    out.write(f"\ntools: {len(tools)}; whole tools/list payload (with outputSchema, annotations): {payload}\n")
    for label, value, budget in checks:
        out.write(f"{label}: {value} (budget {budget}) {'ok' if value <= budget else 'OVER'}\n")
    return 0 if all(value <= budget for _, value, budget in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
