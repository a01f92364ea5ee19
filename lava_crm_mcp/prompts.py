"""MCP prompts: ready-made CRM workflows an agent can start from, with validated arguments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from mcp import MCPError, types
from mcp.server import ServerRequestContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lava_crm_mcp.context import AppState
from lava_crm_mcp.crm.ids import explain

__all__ = ["PromptServer"]

Context = ServerRequestContext[AppState, Any]


class PromptArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PipelineReviewArgs(PromptArgs):
    pipeline: Annotated[str, Field(max_length=100, description="Pipeline id or name; empty for the default.")] = ""
    stalled_days: Annotated[
        int, Field(ge=1, le=365, description="Days without activity after which a deal counts as stalled.")
    ] = 14


class LogFollowUpArgs(PromptArgs):
    contact: Annotated[str, Field(min_length=1, max_length=200, description="The contact's name, email or id.")]
    summary: Annotated[str, Field(min_length=1, max_length=2000, description="What happened (call, meeting, email).")]
    due_date: Annotated[
        dt.date | None, Field(description="Follow-up due date, YYYY-MM-DD; empty for one week from today.")
    ] = None


def pipeline_review(a: PipelineReviewArgs) -> str:
    board = f"get_pipeline_board with pipeline={a.pipeline!r}" if a.pipeline else "get_pipeline_board"
    within = f", pipeline={a.pipeline!r}" if a.pipeline else ""
    return (
        f"Review the deal pipeline. Call {board} (or read the resource lava-crm://board).\n"
        "1. For each open stage, give its deal count, value and probability-weighted value; page a long stage "
        "with its `more` call.\n"
        f"2. Find deals stalled for {a.stalled_days} days or more in one call: search_deals(status='open'{within}, "
        f"no_activity_since={a.stalled_days}, sort='last_activity_asc'); rows show last_activity and updated. Do not "
        "call get_deal per deal.\n"
        "3. Propose concrete next steps: a stage move (say from which stage to which, and why) or a follow-up task.\n"
        "4. Do not move any deal or create any task until I confirm; then use move_deal_to_stage (with a reason) "
        "and create_task."
    )


def log_follow_up(a: LogFollowUpArgs) -> str:
    due = a.due_date.isoformat() if a.due_date else "one week from today"
    return (
        f"Log this interaction with {a.contact!r} and schedule a follow-up.\n"
        f"Interaction: {a.summary}\n"
        "1. Find the contact with search_contacts (ask me if several match); get_contact shows its account and deals.\n"
        "2. Log the interaction with log_activity: kind call, email or meeting, a short subject, the details above, "
        "contact_id, and deal_id if it was about one of the contact's deals. Never edit the contact's description.\n"
        f"3. Create a follow-up task with create_task: a short title, due_date {due}, contacts=[<contact id>], "
        "and the account (and deal) if there is one.\n"
        "4. Reply with the contact, the logged activity and the task id."
    )


@dataclass(frozen=True)
class PromptSpec:
    name: str
    title: str
    description: str
    args: type[PromptArgs]
    render: Callable[[Any], str]

    def listing(self) -> types.Prompt:
        schema = self.args.model_json_schema()
        required = set(schema.get("required", []))
        arguments = [
            types.PromptArgument(name=name, description=info.get("description"), required=name in required)
            for name, info in schema["properties"].items()
        ]
        return types.Prompt(name=self.name, title=self.title, description=self.description, arguments=arguments)


PROMPTS = {
    spec.name: spec
    for spec in (
        PromptSpec(
            "pipeline_review",
            "Pipeline review",
            "Walk a pipeline board, flag stalled deals and propose stage moves.",
            PipelineReviewArgs,
            pipeline_review,
        ),
        PromptSpec(
            "log_follow_up",
            "Log a follow-up",
            "Log an interaction with a contact and create a follow-up task.",
            LogFollowUpArgs,
            log_follow_up,
        ),
    )
}


class PromptServer:
    """prompts/list and prompts/get; a bad name or argument is a JSON-RPC invalid-params error that says why."""

    async def list_prompts(self, ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[spec.listing() for spec in PROMPTS.values()])

    async def get_prompt(self, ctx: Context, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        spec = PROMPTS.get(params.name)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt {params.name!r}; prompts: {', '.join(PROMPTS)}.")
        given = {key: value for key, value in (params.arguments or {}).items() if value != ""}
        try:
            args = spec.args.model_validate(given)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {explain(e)}" for e in exc.errors())
            raise MCPError(types.INVALID_PARAMS, f"Invalid arguments for prompt {spec.name}: {problems}.") from None
        message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=spec.render(args)))
        return types.GetPromptResult(description=spec.description, messages=[message])
