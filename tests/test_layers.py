"""The rooms of the house: layers import one way only (cli → server/http → tools → crm; sandbox apart)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lava_crm_mcp"


def imports_of(folder: str) -> dict[str, set[str]]:
    """Every module under `folder` with the top two levels of what it imports (relative imports resolved)."""
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names.add(f"lava_crm_mcp.{folder}" if node.level else node.module or "")
        found[str(path.relative_to(PACKAGE))] = {".".join(name.split(".")[:2]) for name in names}
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("crm", {"mcp", "lava_crm_mcp.tools", "lava_crm_mcp.server", "lava_crm_mcp.settings", "lava_crm_mcp.sandbox"}),
        ("tools", {"httpx", "lava_crm_mcp.server", "lava_crm_mcp.cli", "lava_crm_mcp.http", "lava_crm_mcp.sandbox"}),
    ],
)
def test_a_layer_imports_nothing_above_it(folder: str, forbidden: set[str]) -> None:
    offending = {module: names & forbidden for module, names in imports_of(folder).items() if names & forbidden}
    assert offending == {}


def test_the_sandbox_imports_nothing_else_of_the_package() -> None:
    offending = {
        module: {name for name in names if name.startswith("lava_crm_mcp.") and name != "lava_crm_mcp.sandbox"}
        for module, names in imports_of("sandbox").items()
    }
    assert {module: names for module, names in offending.items() if names} == {}


def test_no_module_is_longer_than_about_three_hundred_lines() -> None:
    lengths = {str(path.relative_to(PACKAGE)): len(path.read_text().splitlines()) for path in PACKAGE.rglob("*.py")}
    assert {path: length for path, length in lengths.items() if length > 320} == {}
