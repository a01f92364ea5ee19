"""A record's description read whole: results cut long text at 2,000 characters and say so; `read_description`
pages through all of it, about 7,500 tokens a page, wherever the record's kind."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from lava_crm_mcp.crm import CrmClient, CrmNotFound
from lava_crm_mcp.crm.filters import field_value
from lava_crm_mcp.crm.history import without_completion
from lava_crm_mcp.crm.resources import resource
from lava_crm_mcp.tools._shared import CUSTOMER_TEXT, READ, IdArg, ToolArgs, ToolFailure, ToolSpec, next_call
from lava_crm_mcp.tools.across import locate
from lava_crm_mcp.tools.render import Result

__all__ = ["PAGE", "READ_DESCRIPTION"]

PAGE = 30_000
"""Characters a page: about 7,500 tokens, under what a host keeps of one result."""


class Description(Result):
    kind: str
    id: str
    start: int
    length: int
    text: str
    more: str | None = None
    """The call for the next page, while there is one."""

    def render(self) -> str:
        span = f"characters {self.start + 1:,}–{self.start + len(self.text):,} of {self.length:,}"
        more = f"\n(continued: {self.more})" if self.more else ""
        return f"{self.kind} {self.id} description, {span}:\n{self.text}{more}"


class ReadDescriptionArgs(ToolArgs):
    record_id: IdArg
    start: Annotated[int, Field(ge=0, description="Character to start at (0).")] = 0


async def read_description(crm: CrmClient, a: ReadDescriptionArgs) -> Description:
    found = await locate(crm, a.record_id)
    if found is None:
        raise CrmNotFound(f"No record has the id {a.record_id!r}. Find it with search_crm.")
    path, record = found
    spec = resource(path)
    text = str(field_value(record, "description") or "")
    if spec.completion:
        text = without_completion(text)
    if a.start > len(text):
        raise ToolFailure(f"start={a.start} is past the end: this description has {len(text):,} characters.")
    end = min(a.start + PAGE, len(text))
    more = next_call("read_description", {"record_id": record.id, "start": end}) if end < len(text) else None
    return Description(
        kind=spec.noun, id=record.id, start=a.start, length=len(text), text=text[a.start : end], more=more
    )


READ_DESCRIPTION: ToolSpec[Any] = ToolSpec(
    "read_description",
    "Read a description whole",
    f"A record's whole description (any kind), where results cut it; long ones in pages. {CUSTOMER_TEXT}",
    ReadDescriptionArgs,
    Description,
    read_description,
    READ,
    "crm",
)
