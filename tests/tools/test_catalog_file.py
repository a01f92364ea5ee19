"""catalog.json is the live inventory, written down: listing answers from it without building any tool."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from lava_crm_mcp.catalog import PATH, catalog, live

REGENERATE = "python -m lava_crm_mcp.catalog"
ENV = {"PATH": "/usr/bin:/bin"}  # no LAVA_* variable of the developer's shell


def _changed(written: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs, by tool name and key (or by section), for a failure a reviewer can read."""
    old = {item["tool"]["name"]: item for item in written.get("tools", [])}
    new = {item["tool"]["name"]: item for item in now["tools"]}
    changed = [f"{name}: {'added' if name not in old else 'removed'}" for name in sorted(old.keys() ^ new.keys())]
    for name in sorted(old.keys() & new.keys()):
        keys = {**old[name]["tool"], **old[name]}.keys() | {**new[name]["tool"], **new[name]}.keys()
        both = [
            k
            for k in sorted(keys)
            if {**old[name], **old[name]["tool"]}.get(k) != {**new[name], **new[name]["tool"]}.get(k)
        ]
        changed += [f"{name}: {', '.join(both)}"] if both else []
    changed += [section for section in ("resources", "templates", "prompts") if written.get(section) != now[section]]
    if [i["tool"]["name"] for i in written.get("tools", [])] != list(new) and not changed:
        changed.append("the tools' order")
    return changed


def test_the_catalog_file_is_what_the_live_inventory_makes() -> None:
    """The one written copy of the tool contract: what every client lists. A change to a tool shows here as a diff of
    catalog.json to review (each tool is one block: name, description, schemas, annotations, tier, toolset)."""
    written = json.loads(PATH.read_text(encoding="utf-8"))
    now = live()
    changed = _changed(written, now)
    assert written == now, f"catalog.json is stale ({'; '.join(changed)}): run `{REGENERATE}` and review `git diff`"


def test_the_catalog_holds_every_tool_with_its_tier_and_toolset() -> None:
    tools = catalog().tools
    assert len(tools) == len(live()["tools"])
    assert {item.tier for item in tools} == {"read", "write", "destructive"}
    assert all(item.toolset for item in tools)
    assert [resource.name for resource in catalog().resources] == ["pipelines", "board"]
    assert [prompt.name for prompt in catalog().prompts] == ["pipeline_review", "log_follow_up"]


LIST_ONLY = textwrap.dedent(
    """
    import sys
    import anyio
    from mcp import Client
    from lava_crm_mcp.server import build_server
    from lava_crm_mcp.settings import Settings

    async def main() -> None:
        async with Client(build_server(Settings(crm_token="t", base_url="http://127.0.0.1:9"))) as client:
            tools = (await client.list_tools()).tools
            await client.list_resources()
            await client.list_prompts()
            print(len(tools), "lava_crm_mcp.tools.inventory" in sys.modules, "lava_crm_mcp.crm.client" in sys.modules)
            result = await client.get_prompt("pipeline_review", {})
            print(bool(result.messages), "lava_crm_mcp.tools.inventory" in sys.modules)

    anyio.run(main)
    """
)


def test_listing_builds_no_tool_and_the_first_use_builds_them() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", LIST_ONLY], capture_output=True, text=True, timeout=60, check=False, env=ENV
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{len(catalog().tools)} False False", "True True"]


HTTP_EAGER = textwrap.dedent(
    """
    import sys
    from lava_crm_mcp.http_app import create_http_app
    from lava_crm_mcp.settings import Settings

    settings = Settings(crm_token="t", base_url="http://127.0.0.1:9")
    create_http_app(settings, settings.crm_client(settings.upstream()))
    print("lava_crm_mcp.tools.inventory" in sys.modules)
    """
)


def test_an_http_replica_builds_the_tools_at_start_so_no_first_caller_waits() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", HTTP_EAGER], capture_output=True, text=True, timeout=60, check=False, env=ENV
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]
