"""What every tool shares: tiers, the tool description record, strict flat arguments, one error translation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.types import ToolAnnotations
from pydantic import ConfigDict, Field, StringConstraints

from lava_crm_mcp.crm import CrmClient, CrmError, CrmRateLimited, UnknownStage
from lava_crm_mcp.crm.errors import CrmAuthError, CrmNotFound
from lava_crm_mcp.crm.inputs import ID_PATTERN
from lava_crm_mcp.tools.render import Result

__all__ = [
    "DESTRUCTIVE",
    "READ",
    "WRITE",
    "Handler",
    "IdArg",
    "PageArg",
    "QueryArg",
    "Tier",
    "ToolArgs",
    "ToolSpec",
    "translate",
]

Tier = Literal["read", "write", "destructive"]
READ: Tier = "read"
WRITE: Tier = "write"
DESTRUCTIVE: Tier = "destructive"

ANNOTATIONS: dict[Tier, ToolAnnotations] = {
    READ: ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True),
    WRITE: ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True),
    DESTRUCTIVE: ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
    ),
}

IdArg = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
QueryArg = Annotated[str | None, Field(description="Text to match; omit to list all.")]
PageArg = Annotated[int, Field(ge=1, le=10_000, description="1-based page of 20.")]


def _compact_schema(schema: dict[str, Any]) -> None:
    """Trim what a model reads: no titles, `X | None` shown as `X`, no null defaults."""
    schema.pop("title", None)
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    for prop in properties.values():
        prop.pop("title", None)
        options: list[Any] = prop.get("anyOf", [])
        if {"type": "null"} in options and len(options) == 2:
            prop.pop("anyOf")
            prop.update(next(option for option in options if option != {"type": "null"}))
        if prop.get("default", 0) is None:
            prop.pop("default")


class ToolArgs(ArgModelBase):
    """Base of every tool's arguments: flat, strict (unknown keys are errors), compact in the schema."""

    model_config = ConfigDict(
        arbitrary_types_allowed=True,
        extra="forbid",
        coerce_numbers_to_str=True,  # an amount sent as 1500 reads as "1500"
        json_schema_extra=lambda schema, _cls: _compact_schema(schema),
    )


Handler = Callable[[CrmClient, Any], Awaitable[Result]]


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, title, description, arguments model, handler, tier and toolset."""

    name: str
    title: str
    description: str
    args: type[ToolArgs]
    output: type[Result]
    handler: Handler
    tier: Tier
    toolset: str
    hints: dict[str, str] | None = None

    @property
    def annotations(self) -> ToolAnnotations:
        return ANNOTATIONS[self.tier].model_copy(update={"title": self.title})

    def hint(self, key: str) -> str:
        return (self.hints or {}).get(key, "")


def translate(exc: CrmError, spec: ToolSpec) -> ToolError:
    """The one translation of adapter errors into text the model can act on."""
    message = exc.message
    if isinstance(exc, UnknownStage):
        message += " Call get_pipeline_board to see stages, or add_stage to create one."
    elif isinstance(exc, CrmNotFound):
        message += f" {spec.hint('not_found')}".rstrip()
    elif isinstance(exc, CrmAuthError):
        message += " (Server config: LAVA_SECRET_KEY or LAVA_CRM_TOKEN.)"
    elif isinstance(exc, CrmRateLimited) and exc.retry_after is not None:
        message += f" retry_after_seconds={exc.retry_after:g}"
    return ToolError(message)
