"""The README's tool table lists exactly the inventory: names, tiers, toolsets and descriptions, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from readme_table import render_tool_table, table_rows

from lava_crm_mcp.tools import TOOLS

README = Path(__file__).resolve().parents[2] / "README.md"
INVENTORY = [(tool.name, tool.tier, tool.toolset, tool.description) for tool in TOOLS]


def test_the_rendered_table_lists_every_tool_in_inventory_order() -> None:
    rendered = render_tool_table()

    assert rendered.splitlines()[:3] == [
        "| Tool | Tier | Toolset | What it does |",
        "|---|---|---|---|",
        "| `search_crm` | read | crm | " + TOOLS[0].description + " |",
    ]
    assert table_rows(rendered) == INVENTORY


def test_the_readme_tool_table_matches_the_inventory() -> None:
    readme = README.read_text(encoding="utf-8")
    if "| Tool | Tier |" not in readme:
        pytest.skip("README.md has no tool table yet: paste the output of `python tests/tools/readme_table.py`")

    rows = table_rows(readme)

    assert rows is not None, "README.md needs a '| Tool | Tier | Toolset | What it does |' header and a |---| rule"
    assert rows == INVENTORY, "README tool table is stale: replace it with `python tests/tools/readme_table.py`"
    assert rows == table_rows(render_tool_table())
