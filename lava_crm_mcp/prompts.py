"""MCP prompts: ready-made CRM workflows an agent can start from."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

__all__ = ["register_prompts"]


def pipeline_review(
    pipeline_id: Annotated[str, Field(description="Pipeline to review; empty for the default pipeline.")] = "",
    stalled_days: Annotated[
        str, Field(description="Days without an update after which a deal counts as stalled.")
    ] = "14",
) -> str:
    """Walk a pipeline board, flag stalled deals and propose stage moves."""
    board = f"lava-crm://pipelines/{pipeline_id}/board" if pipeline_id else "lava-crm://board"
    return (
        f"Review the deal pipeline. Read the resource {board} (or call get_pipeline_board"
        f"{f' with pipeline_id={pipeline_id!r}' if pipeline_id else ''}).\n"
        "1. For each open stage, list its deals with amount and account.\n"
        f"2. Flag deals not updated for more than {stalled_days} days (get_deal shows updated_at) as stalled.\n"
        "3. Propose concrete next steps: a stage move (say from which stage to which, and why) or a follow-up task.\n"
        "4. Do not move any deal or create any task until I confirm; then use move_deal_to_stage and create_task."
    )


def log_follow_up(
    contact: Annotated[str, Field(description="The contact's name, email or id.")],
    summary: Annotated[str, Field(description="What happened in the interaction (call, meeting, email).")],
    due_date: Annotated[str, Field(description="Follow-up due date, YYYY-MM-DD; empty for one week from today.")] = "",
) -> str:
    """Log an interaction with a contact and create a follow-up task."""
    due = due_date or "one week from today"
    return (
        f"Log this interaction with {contact!r} and schedule a follow-up.\n"
        f"Interaction: {summary}\n"
        "1. Find the contact with search_contacts (ask me if several match).\n"
        "2. Append a dated one-line note to the contact's description with update_contact (keep the existing text).\n"
        f"3. Create a follow-up task with create_task: a short title, due_date {due}, contacts=[<contact id>], "
        "and the account if the contact has one.\n"
        "4. Reply with the contact, the note and the task id."
    )


def register_prompts(server: MCPServer[Any]) -> None:
    server.prompt(title="Pipeline review")(pipeline_review)
    server.prompt(title="Log a follow-up")(log_follow_up)
