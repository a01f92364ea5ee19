"""What this server offers, as clients list it: every tool (with its tier and toolset), resource, resource template
and prompt, read from `catalog.json`.

Listing needs nothing else, so a host sees the tools without waiting for the ~150 pydantic models behind them; they
are built on the first call. The file is written from the live inventory by `python -m lava_crm_mcp.catalog` (the
schemas stay pydantic's), and a test fails whenever the two differ.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from mcp import types

from lava_crm_mcp.tools.tiers import Tier

__all__ = ["PATH", "Catalog", "Listed", "catalog", "live"]

PATH = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class Listed:
    """A tool as listed, with what the policy decides by."""

    tool: types.Tool
    tier: Tier
    toolset: str

    @property
    def name(self) -> str:
        return self.tool.name


@dataclass(frozen=True)
class Catalog:
    tools: tuple[Listed, ...]
    resources: tuple[types.Resource, ...]
    templates: tuple[types.ResourceTemplate, ...]
    prompts: tuple[types.Prompt, ...]

    @property
    def toolsets(self) -> tuple[str, ...]:
        """The toolsets, in the order their first tool is listed (one per noun of the noun table, and pipelines)."""
        return tuple(dict.fromkeys(item.toolset for item in self.tools))


@functools.cache
def catalog() -> Catalog:
    """The catalog of this installation (read once per process)."""
    data = cast(dict[str, list[dict[str, Any]]], json.loads(PATH.read_text(encoding="utf-8")))
    tools = (Listed(types.Tool.model_validate(item["tool"]), item["tier"], item["toolset"]) for item in data["tools"])
    return Catalog(
        tuple(tools),
        tuple(types.Resource.model_validate(item) for item in data["resources"]),
        tuple(types.ResourceTemplate.model_validate(item) for item in data["templates"]),
        tuple(types.Prompt.model_validate(item) for item in data["prompts"]),
    )


def live() -> dict[str, Any]:
    """The catalog as the live inventory makes it now (builds every tool): what `catalog.json` must hold."""
    from lava_crm_mcp.dispatch import sdk_tool
    from lava_crm_mcp.prompts import PROMPTS
    from lava_crm_mcp.resources import RESOURCES, TEMPLATES
    from lava_crm_mcp.tools import TOOLS

    def dump(model: types.Tool | types.Resource | types.ResourceTemplate | types.Prompt) -> dict[str, Any]:
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)

    return {
        "tools": [{"tier": spec.tier, "toolset": spec.toolset, "tool": dump(sdk_tool(spec))} for spec in TOOLS],
        "resources": [dump(resource) for resource in RESOURCES],
        "templates": [dump(template) for template in TEMPLATES],
        "prompts": [dump(spec.listing()) for spec in PROMPTS.values()],
    }


def write() -> None:
    """Rewrite catalog.json from the live inventory."""
    PATH.write_text(json.dumps(live(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
    sys.stderr.write(f"wrote {PATH}\n")
