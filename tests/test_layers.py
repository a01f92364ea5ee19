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
        (
            "tools",
            {"httpx", "lava_crm_mcp.server", "lava_crm_mcp.cli", "lava_crm_mcp.http_app", "lava_crm_mcp.sandbox"},
        ),
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


# What the SDK documents as its public surface (the pages of modelcontextprotocol/python-sdk `docs/` that use them):
# low-level server (advanced/low-level-server.md), testing (get-started/testing.md), client transports
# (client/transports.md), DNS-rebinding protection (guides/dns-rebinding-protection.md), authorization
# (run/authorization.md), and `mcp.types`, the wire
# types namespace. Anything else (`mcp.server.mcpserver.utilities`, `mcp.shared`, …) may change in a 2.x release.
DOCUMENTED: dict[str, set[str] | None] = {
    "mcp": {"Client", "ClientSession", "MCPError", "StdioServerParameters", "stdio_client", "stdio_server", "types"},
    "mcp.types": None,  # every name
    "mcp.server": {"Server", "ServerRequestContext"},
    "mcp.server.transport_security": {"TransportSecuritySettings"},
    "mcp.client.streamable_http": {"streamable_http_client"},
    # authorization for a resource server (run/authorization.md): the verifier protocol, its token, the settings, and
    # the caller's token inside a handler
    "mcp.server.auth.provider": {"AccessToken", "TokenVerifier"},
    "mcp.server.auth.settings": {"AuthSettings"},
    "mcp.server.auth.middleware.auth_context": {"get_access_token"},
    # what a custom transport reads and writes (migration.md, "Custom transports ... SessionMessage"): stdio_lines.py
    # stands between stdio_server's streams and the server
    "mcp.shared.message": {"SessionMessage"},
}
ROOT = PACKAGE.parent


def sdk_imports() -> list[tuple[str, str, str]]:
    """(file, module, name) of every import from the `mcp` package in the project's code, tests and benches."""
    found: list[tuple[str, str, str]] = []
    for folder in ("lava_crm_mcp", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "mcp":
                    found += [(str(path.relative_to(ROOT)), node.module or "", alias.name) for alias in node.names]
                elif isinstance(node, ast.Import):
                    found += [
                        (str(path.relative_to(ROOT)), a.name, "") for a in node.names if a.name.split(".")[0] == "mcp"
                    ]
    return found


def test_only_the_sdk_s_documented_public_api_is_imported() -> None:
    undocumented = [
        (file, module, name)
        for file, module, name in sdk_imports()
        if module not in DOCUMENTED or (DOCUMENTED[module] is not None and name not in (DOCUMENTED[module] or set()))
    ]

    assert sdk_imports(), "the scan found no mcp import at all: it is broken"
    assert undocumented == []
