"""The README's tool table, rendered from the inventory: `python tests/tools/readme_table.py` prints it to paste."""

from __future__ import annotations

import re
import sys

from lava_crm_mcp.tools import TOOLS

HEADER = ("Tool", "Tier", "Toolset", "What it does")
RULE = re.compile(r"^:?-{3,}:?$")
PIPE = re.compile(r"(?<!\\)\|")


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_tool_table() -> str:
    """`| Tool | Tier | Toolset | What it does |`, then one row per tool in inventory order."""
    lines = [f"| {' | '.join(HEADER)} |", f"|{'---|' * len(HEADER)}"]
    lines += [f"| `{tool.name}` | {tool.tier} | {tool.toolset} | {_escape(tool.description)} |" for tool in TOOLS]
    return "\n".join(lines)


def _cells(line: str) -> list[str]:
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip().replace("\\|", "|") for cell in PIPE.split(inner)]


def table_rows(markdown: str) -> list[tuple[str, ...]] | None:
    """The rows (name without backticks, tier, toolset, description) of the first tool table, or None if none."""
    lines = markdown.splitlines()
    for index, line in enumerate(lines):
        if not line.strip().startswith("|") or tuple(_cells(line)) != HEADER:
            continue
        if index + 1 >= len(lines) or not all(RULE.match(cell) for cell in _cells(lines[index + 1])):
            return None
        rows: list[tuple[str, ...]] = []
        for row in lines[index + 2 :]:
            if not row.strip().startswith("|"):
                break
            name, *rest = _cells(row)
            rows.append((name.strip("`"), *rest))
        return rows
    return None


if __name__ == "__main__":
    sys.stdout.write(render_tool_table() + "\n")
