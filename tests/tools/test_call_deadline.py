"""One deadline per tool call (LAVA_CRM_CALL_DEADLINE): a CRM that drips its answers cannot hold a call past it, and
the result says what is known: a read changed nothing; a write may have been applied, with the exact call to check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import httpx
import pytest
from call_results import text
from tool_clients import Connect, crm_client

from lava_crm_mcp.settings import Settings

pytestmark = pytest.mark.anyio

BOUND = 10  # seconds: past this the test fails instead of hanging


class Drip(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{"
        while True:
            await anyio.sleep(0.05)
            yield b" "


def dripping(request: httpx.Request) -> httpx.Response:
    """Lists answer at once (empty: no duplicate); records and writes drip."""
    if request.method == "GET" and request.url.path.endswith("/contacts/"):
        return httpx.Response(200, json={"count": 0, "next": None, "results": []})
    return httpx.Response(200 if request.method == "GET" else 201, stream=Drip())


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    [
        ("search_deals", {"query": "Ada"}, "Nothing was changed"),
        (
            "create_contact",
            {"first_name": "Ada", "last_name": "King", "primary_email": "ada@example.com"},
            "See whether it exists with search_contacts(query='ada@example.com').",
        ),
        ("update_task", {"task_id": "t-1", "title": "Call"}, "See it as it is now with get_task(task_id='t-1')."),
        ("move_deal_to_stage", {"deal_id": "d-1", "stage": "s-1"}, "Nothing was changed"),
    ],
)
async def test_a_call_ends_at_its_deadline_saying_what_is_known(
    connect: Connect, tool: str, arguments: dict[str, object], said: str
) -> None:
    settings = Settings(call_deadline=0.5, confirm_deletes=False)
    async with crm_client(httpx.MockTransport(dripping)) as crm, connect(settings, crm=crm) as client:
        with anyio.fail_after(BOUND):
            result = await client.call_tool(tool, arguments)

    assert result.is_error
    assert said in text(result)
    assert "a bug" not in text(result)


class Unstoppable(httpx.AsyncBaseTransport):
    """Holds every request for `seconds` and cannot be cancelled meanwhile, as a blocking library call would: the
    adapter's own per-attempt limit cannot end it, so only the tool call's outer limit does."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(self.seconds)
        await anyio.lowlevel.checkpoint()  # where a cancellation held back meanwhile arrives
        return httpx.Response(200, json={"count": 0, "next": None, "results": []})


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    [
        ("search_contacts", {"query": "Ada"}, "Nothing was changed; try again, or ask for less."),
        ("update_task", {"task_id": "t-1", "title": "Call"}, "See it as it is now with get_task(task_id='t-1')."),
    ],
)
async def test_work_the_adapter_cannot_stop_still_ends_the_call_at_its_deadline(
    connect: Connect, tool: str, arguments: dict[str, object], said: str
) -> None:
    settings = Settings(call_deadline=0.2, confirm_deletes=False)
    async with crm_client(Unstoppable(seconds=1.6)) as crm, connect(settings, crm=crm) as client:
        with anyio.fail_after(BOUND):
            result = await client.call_tool(tool, arguments)

    assert result.is_error
    assert f"{tool} did not finish within 0.2 s." in text(result)
    assert said in text(result)
    assert "a bug" not in text(result)
