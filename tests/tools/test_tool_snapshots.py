"""One snapshot per tool of what a client sees (tests/tools/toolsnaps/<tool>.json): any drift in a name, description,
input or output schema, or annotation fails here, as a small diff in that tool's own file.

After an intended change, review before you update:
  1. read the failure: it names the tool and shows the first differing keys;
  2. `UPDATE_TOOLSNAPS=1 python -m pytest tests/tools/test_tool_snapshots.py` rewrites the files;
  3. `git diff tests/tools/toolsnaps/` — every changed line is something a model or client will now see differently.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from lava_crm_mcp.tools import TOOLS

pytestmark = pytest.mark.anyio

SNAPSHOTS = Path(__file__).parent / "toolsnaps"
UPDATE = os.environ.get("UPDATE_TOOLSNAPS") == "1"
HOW = "If the change is intended: UPDATE_TOOLSNAPS=1 python -m pytest tests/tools/test_tool_snapshots.py, then review "


def snapshot_of(tool: Tool) -> dict[str, Any]:
    """What a client reads of a tool, in wire (camelCase) form."""
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"meta"})


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [key for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]


@pytest.mark.parametrize("name", [tool.name for tool in TOOLS])
async def test_a_tool_matches_its_snapshot(client: Client, name: str) -> None:
    tool = next(tool for tool in (await client.list_tools()).tools if tool.name == name)
    current = snapshot_of(tool)
    path = SNAPSHOTS / f"{name}.json"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return

    assert path.exists(), f"{name} has no snapshot. {HOW}{path}."
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert current == stored, f"{name} changed in {differences(stored, current)}. {HOW}git diff {path.name}."


def test_every_snapshot_belongs_to_a_tool_that_exists() -> None:
    names = {tool.name for tool in TOOLS}
    stale = sorted(path.stem for path in SNAPSHOTS.glob("*.json") if path.stem not in names)

    assert stale == [], f"Snapshots of tools that no longer exist: {stale}; delete those files."
