"""Turning a ToolSpec into an SDK tool: strict flat arguments, one error translation, compact results."""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp.types import CallToolResult
from pydantic import ValidationError

from lava_crm_mcp.context import current_crm
from lava_crm_mcp.crm import CrmError
from lava_crm_mcp.crm.ids import explain
from lava_crm_mcp.tools import ToolSpec, to_call_result, translate

__all__ = ["sdk_tool"]

logger = logging.getLogger("lava_crm_mcp.tools")

UNKNOWN_HINTS = {
    "stage": "A deal's stage changes only through move_deal_to_stage(deal_id, stage).",
    "pipeline_stage": "A deal's stage changes only through move_deal_to_stage(deal_id, stage).",
}


def reject_unknown(tool: str, model: type[Any], arguments: dict[str, Any]) -> None:
    """Unknown keys are an error naming the valid ones (the SDK would silently drop them)."""
    valid = list(model.model_fields)
    unknown = [key for key in arguments if key not in valid]
    if unknown:
        hints = " ".join(dict.fromkeys(UNKNOWN_HINTS[key] for key in unknown if key in UNKNOWN_HINTS))
        raise ToolError(
            f"Unknown argument(s) {', '.join(map(repr, unknown))} for {tool}. "
            f"Valid arguments: {', '.join(valid) or 'none'}." + (f" {hints}" if hints else "")
        )


def invalid_arguments(tool: str, exc: ValidationError) -> ToolError:
    """Invalid values as one actionable message: each field and, for patterns, what a valid value looks like."""
    problems = [f"{'.'.join(map(str, error['loc'])) or 'arguments'}: {explain(error)}" for error in exc.errors()]
    return ToolError(f"Invalid arguments for {tool}: {'; '.join(problems)}.")


class StrictTool(Tool):
    """An SDK tool that refuses unknown or invalid arguments with a message naming what is valid."""

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        reject_unknown(self.name, self.fn_metadata.arg_model, arguments)
        try:
            return await super().run(arguments, context, convert_result=convert_result)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            # The SDK validates the arguments once; only its argument check raises with a ValidationError cause.
            if isinstance(exc.__cause__, ValidationError):
                raise invalid_arguments(self.name, exc.__cause__) from None
            raise


def _dispatcher(spec: ToolSpec) -> Any:
    async def dispatch(ctx: Context[Any, Any], **arguments: Any) -> CallToolResult:
        try:
            return to_call_result(await spec.handler(current_crm(), spec.args.model_construct(**arguments)))
        except CrmError as exc:
            raise translate(exc, spec) from exc
        except ToolError:
            raise
        except Exception:
            logger.exception("%s failed unexpectedly", spec.name)
            raise ToolError(
                f"{spec.name} failed inside lava-crm-mcp (a bug; details are in the server log). "
                "If it was a write, read the record back before retrying."
            ) from None

    return dispatch


def sdk_tool(spec: ToolSpec) -> Tool:
    """The SDK's Tool for a spec; its input and output schemas come from the spec's pydantic models."""
    return StrictTool(
        fn=_dispatcher(spec),
        name=spec.name,
        title=spec.title,
        description=spec.description,
        parameters=spec.args.model_json_schema(by_alias=True),
        fn_metadata=FuncMetadata(arg_model=spec.args, output_model=spec.output),
        is_async=True,
        context_kwarg="ctx",
        annotations=spec.annotations,
    )
