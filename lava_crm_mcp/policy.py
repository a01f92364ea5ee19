"""Which tools a server exposes: toolsets and modes, decided from one table."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

from lava_crm_mcp.settings import Mode
from lava_crm_mcp.tools.tiers import DESTRUCTIVE, READ, WRITE, Tier

__all__ = ["MODE_TIERS", "Governed", "refusal", "scope_refusal"]


class Governed(Protocol):
    """What the policy reads of a tool (a ToolSpec, or its entry in the catalog)."""

    @property
    def name(self) -> str: ...
    @property
    def tier(self) -> Tier: ...
    @property
    def toolset(self) -> str: ...


MODE_TIERS: dict[Mode, frozenset[Tier]] = {
    "read-only": frozenset({READ}),
    "no-delete": frozenset({READ, WRITE}),
    "full": frozenset({READ, WRITE, DESTRUCTIVE}),
}


def refusal(tool: Governed, mode: Mode, toolsets: Iterable[str]) -> str | None:
    """Why this tool is off under the policy (`toolsets` empty: all are enabled), or None when it is on."""
    if tool.tier not in MODE_TIERS[mode]:
        return (
            f"{tool.name} is disabled: this server runs in {mode} mode (LAVA_CRM_MODE), which allows "
            f"{', '.join(sorted(MODE_TIERS[mode]))} tools only."
        )
    enabled = tuple(toolsets)
    if enabled and tool.toolset not in enabled:
        return (
            f"{tool.name} is disabled: its toolset {tool.toolset!r} is not enabled (LAVA_CRM_TOOLSETS="
            f"{','.join(enabled)})."
        )
    return None


def scope_refusal(tool: Governed, granted: Collection[str] | None, needed: Mapping[Tier, str]) -> str | None:
    """Why the caller's OAuth token may not use this tool (None: it may, or no OAuth token is in play)."""
    if granted is None or needed[tool.tier] in granted:
        return None
    return (
        f"{tool.name} needs the OAuth scope {needed[tool.tier]!r}, which this access token does not carry; "
        "sign in again asking for that scope, or ask your administrator to grant it."
    )
