"""Two-phase tools (deletes, merges, syncs): the first call previews what would happen and gives a confirm token; the
second call, with that token, does it — if the preview still holds. A confirm whose preview no longer holds (a deal
was added to the account since, a row of the sync changed) does nothing and answers the fresh preview with a new
token. How tokens are made and why one is refused: `confirm.py`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

from pydantic import Field

from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.tools._shared import ToolArgs, ToolFailure, ToolSpec, next_call
from lava_crm_mcp.tools.caller import caller
from lava_crm_mcp.tools.confirm import Confirmations, Refusal
from lava_crm_mcp.tools.render import Result

__all__ = ["Previewed", "two_phase"]

TOKEN_FIELDS = frozenset({"confirm", "expires_at", "next_call", "note"})


class Previewed(Result):
    """A two-phase tool's answer, whose `outcome` is "preview" (nothing done yet; `confirm` is the token for the
    second call, `next_call` the exact call) or what the second call did."""

    confirm: str | None = None
    expires_at: int | None = None
    next_call: str | None = None
    note: str | None = None
    same_arguments: ClassVar[tuple[str, ...]] = ()
    """Arguments `next_call` does not repeat (a sync's rows): the call says to send them again as they were."""
    target: str = Field(default="", exclude=True)
    """What the token is bound to: the record's id, or the plan's key."""
    version: str | None = Field(default=None, exclude=True)
    """What else the preview rests on without showing it (the record's last change)."""

    def digest(self) -> str:
        """A digest of everything the preview shows (and its version): a confirm is refused once it changes."""
        shown = self.model_dump(mode="json", exclude=set(TOKEN_FIELDS))
        text = json.dumps([shown, self.version], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


CHANGED = (
    "Nothing was done: what the preview showed changed since it was issued. This is the preview as it is now; "
    "confirm it with its new token if it is still what you want."
)


async def two_phase(spec: ToolSpec[Any], crm: CrmClient, args: ToolArgs, confirmations: Confirmations) -> Result:
    """Without a token: the preview and a token. With one: the tool's work, once the token is checked against this
    tool, this record or plan, this caller, the clock and a fresh preview."""
    if spec.preview is None:
        return await spec.handler(crm, args)
    token: str | None = getattr(args, "confirm", None)
    credential, who = crm.upstream.credential.get_secret_value(), caller().key
    if token:  # what needs no reading of the CRM first: a token for another tool or caller reads nothing
        _refuse(spec, confirmations.refusal(token, credential, spec.name, who))
    preview = await spec.preview(crm, args)
    if not isinstance(preview, Previewed) or getattr(preview, "outcome", None) != "preview":
        return preview  # nothing to confirm: gone, blocked, nothing to change
    shown = preview.digest()
    if token:
        refusal = confirmations.refusal(token, credential, spec.name, who, record=preview.target, shown=shown)
        if refusal is None:
            return await spec.handler(crm, args)
        if refusal is not Refusal.CHANGED:
            _refuse(spec, refusal)
        preview.note = CHANGED
    preview.confirm, preview.expires_at = confirmations.issue(credential, spec.name, preview.target, who, shown)
    arguments = args.model_dump(mode="json", exclude_none=True, exclude={"confirm", *preview.same_arguments})
    call = next_call(spec.name, {**arguments, "confirm": preview.confirm})
    same = ", ".join(f"{name}=<the same {name}>" for name in preview.same_arguments)
    preview.next_call = call.replace(f"{spec.name}(", f"{spec.name}({same}, ", 1) if same else call
    return preview


def _refuse(spec: ToolSpec[Any], refusal: Refusal | None) -> None:
    if refusal is not None:
        again = f"Call {spec.name} again without confirm for a fresh preview and token."
        raise ToolFailure(f"The confirm token {refusal.value}. Nothing was done. {again}")
