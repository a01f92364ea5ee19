"""The audit trail through the tools: one JSON line per record a write touched (create, update, move, stage and
pipeline changes, activity, lead conversion, a confirmed delete and its preview, each item of a batch), naming the
caller as timeline entries do, the tool, the noun, the record id and the outcome (done, refused, unknown, previewed),
and never a field value, an argument or a secret. Reads leave no line."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from call_results import failed, ok
from demo_org import ids
from pydantic import BaseModel
from starlette.applications import Starlette
from tool_clients import Connect, crm_client

import lava_crm_mcp.tools
from lava_crm_mcp.crm import CrmClient
from lava_crm_mcp.settings import Settings
from lava_crm_mcp.tools import WRITE, Result, ToolArgs, ToolSpec
from lava_crm_mcp.tools.audit import AuditItem
from lava_crm_mcp.tools.views import View

pytestmark = pytest.mark.anyio

SECRET_VALUES = (
    "zq.audit.value@example.org",
    "Zqfirst",
    "Zqlast",
    "Chief Zq Officer",
    "Zq secret reason",
    "Zq subject",
)


class Lines(logging.Handler):
    """The audit logger's lines, raw and parsed."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(record.getMessage())

    @property
    def parsed(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw]

    def of(self, tool: str) -> list[dict[str, Any]]:
        return [line for line in self.parsed if line["tool"] == tool]


@pytest.fixture
def audit() -> Iterator[Lines]:
    lines = Lines()
    logger = logging.getLogger("lava_crm_mcp.audit")
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines)
    logger.setLevel(level)


def ada() -> Settings:
    """Settings read when the test runs (the fixtures clear LAVA_* first), naming the local user."""
    return Settings(local_user="ada.lovelace")


def shape(line: dict[str, Any]) -> tuple[str, str, str | None, str]:
    return line["tool"], line["noun"], line["id"], line["outcome"]


async def test_every_write_kind_leaves_a_line_with_the_actor_the_record_and_no_value(
    connect: Connect, audit: Lines
) -> None:
    async with connect(ada()) as client:
        deals = await ids(client, "deals")
        leads = await ids(client, "leads")
        made = ok(
            await client.call_tool(
                "create_contact",
                {"first_name": "Zqfirst", "last_name": "Zqlast", "primary_email": "zq.audit.value@example.org"},
            )
        )["record"]
        ok(await client.call_tool("update_contact", {"contact_id": made["id"], "title": "Chief Zq Officer"}))
        moved = {"deal_id": deals["Risk dashboards"], "stage": "Lost", "reason": "Zq secret reason"}
        ok(await client.call_tool("move_deal_to_stage", moved))
        stage = ok(await client.call_tool("add_stage", {"name": "Zq stage"}))["stage"]
        pipeline = ok(await client.call_tool("create_pipeline", {"name": "Zq pipeline"}))["pipeline"]
        logged = {"kind": "call", "subject": "Zq subject", "contact_id": made["id"]}
        activity = ok(await client.call_tool("log_activity", logged))["activity"]
        lead = next(iter(leads.values()))
        ok(await client.call_tool("convert_lead", {"lead_id": lead}))
        preview = ok(await client.call_tool("delete_contact", {"contact_id": made["id"]}))
        ok(await client.call_tool("delete_contact", {"contact_id": made["id"], "confirm": preview["confirm"]}))

    assert [shape(line) for line in audit.parsed] == [
        ("create_contact", "contact", made["id"], "done"),
        ("update_contact", "contact", made["id"], "done"),
        ("move_deal_to_stage", "deal", deals["Risk dashboards"], "done"),
        ("add_stage", "stage", stage["id"], "done"),
        ("create_pipeline", "pipeline", pipeline["id"], "done"),
        ("log_activity", "activity", activity["id"], "done"),
        ("convert_lead", "account", ANY, "done"),
        ("convert_lead", "contact", ANY, "done"),
        ("convert_lead", "lead", lead, "done"),
        ("delete_contact", "contact", made["id"], "previewed"),
        ("delete_contact", "contact", made["id"], "done"),
    ]
    assert {(line["actor"], line["actor_kind"]) for line in audit.parsed} == {("ada.lovelace via local", "local")}
    assert all(
        set(line) - {"detail"} == {"time", "actor", "actor_kind", "tool", "noun", "id", "outcome", "call"}
        for line in audit.parsed
    )
    assert [line["detail"] for line in audit.parsed if line["tool"] == "convert_lead"] == [
        "created",
        "created",
        "marked converted",
    ]
    assert not [value for value in SECRET_VALUES if any(value in line for line in audit.raw)]
    assert preview["confirm"] not in "".join(audit.raw)


async def test_a_line_is_stamped_in_utc_when_the_write_happens(connect: Connect, audit: Lines) -> None:
    before = dt.datetime.now(dt.UTC)
    async with connect(ada()) as client:
        ok(await client.call_tool("create_account", {"name": "Zq Stamped Ltd"}))
    after = dt.datetime.now(dt.UTC)

    (line,) = audit.parsed
    stamp = dt.datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert line["time"].endswith("Z")
    assert before - dt.timedelta(milliseconds=1) <= stamp <= after


async def test_the_actor_of_a_line_is_the_actor_of_the_timeline_entry(connect: Connect, audit: Lines) -> None:
    async with connect(ada()) as client:
        deal = (await ids(client, "deals"))["Reporting suite"]
        ok(await client.call_tool("move_deal_to_stage", {"deal_id": deal, "stage": "Lost"}))
        got = ok(await client.call_tool("get_deal", {"deal_id": deal}))

    (entry,) = got["related"]["timeline"]["items"]
    (line,) = audit.of("move_deal_to_stage")
    assert entry["by"] == line["actor"] == "ada.lovelace via local"


async def test_a_refused_write_is_a_refused_line_and_a_bad_id_is_not_copied(connect: Connect, audit: Lines) -> None:
    async with connect(ada()) as client:
        failed(await client.call_tool("update_contact", {"contact_id": "zz-missing", "title": "Chief Zq Officer"}))
        failed(await client.call_tool("update_contact", {"contact_id": "zq.audit.value@example.org", "title": "x"}))

    assert [shape(line) for line in audit.parsed] == [
        ("update_contact", "contact", "zz-missing", "refused"),
        ("update_contact", "contact", "?", "refused"),
    ]
    assert not [value for value in SECRET_VALUES if any(value in line for line in audit.raw)]


async def test_bad_arguments_reads_and_refused_tools_leave_no_line(connect: Connect, audit: Lines) -> None:
    async with connect(Settings(mode="read-only")) as client:
        failed(await client.call_tool("create_contact", {"first_name": "Zq"}))
        ok(await client.call_tool("search_contacts", {"query": "Zq"}))
    async with connect(ada()) as client:
        failed(await client.call_tool("create_contact", {"first_name": "Zq", "nickname": "Zq"}))

    assert audit.raw == []


class WriteLost(httpx.AsyncBaseTransport):
    """The sandbox, except that every write's answer is lost (the connection drops after sending)."""

    def __init__(self, app: Starlette) -> None:
        self.inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            raise httpx.ReadError("connection reset", request=request)
        return await self.inner.handle_async_request(request)


async def test_a_write_whose_answer_was_lost_is_an_unknown_line(
    connect: Connect, sandbox: Starlette, audit: Lines
) -> None:
    async with crm_client(WriteLost(sandbox)) as crm, connect(ada(), crm=crm) as client:
        deal = (await ids(client, "deals"))["Risk dashboards"]
        failed(await client.call_tool("update_deal", {"deal_id": deal, "probability": 55}))

    assert [shape(line) for line in audit.parsed] == [("update_deal", "deal", deal, "unknown")]


class Row(BaseModel):
    id: str
    moved: bool


class BatchMoved(Result):
    """A batch tool's result as the batch tools implement the audit protocol: one item per record."""

    rows: list[Row]

    def render(self) -> str:
        return f"{len(self.rows)} rows"

    def audit_items(self) -> list[AuditItem]:
        return [AuditItem("deal", row.id, "done" if row.moved else "refused") for row in self.rows]


class BatchArgs(ToolArgs):
    deal_ids: list[str]


async def batch(crm: CrmClient, a: BatchArgs) -> BatchMoved:
    return BatchMoved(rows=[Row(id=deal, moved=not deal.startswith("x")) for deal in a.deal_ids])


BATCH = ToolSpec("zq_move_deals", "Batch", "A batch write.", BatchArgs, BatchMoved, batch, WRITE, "deals")


async def test_a_batch_result_gets_one_line_per_item_with_its_own_outcome(
    connect: Connect, audit: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lava_crm_mcp.tools, "TOOLS", (*lava_crm_mcp.tools.TOOLS, BATCH))
    async with connect(ada()) as client:
        result = await client.call_tool("zq_move_deals", {"deal_ids": ["d-1", "x-2", "d-3"]})

    assert not result.is_error
    assert [(line["noun"], line["id"], line["outcome"]) for line in audit.parsed] == [
        ("deal", "d-1", "done"),
        ("deal", "x-2", "refused"),
        ("deal", "d-3", "done"),
    ]
    assert len({line["call"] for line in audit.parsed}) == 1


async def test_a_confirm_whose_preview_changed_is_logged_as_a_fresh_preview(connect: Connect, audit: Lines) -> None:
    async with connect(ada()) as client:
        contact = ok(await client.call_tool("create_contact", {"first_name": "Zq", "last_name": "Changing"}))["record"]
        preview = ok(await client.call_tool("delete_contact", {"contact_id": contact["id"]}))
        ok(await client.call_tool("create_task", {"title": "Zq task", "contacts": [contact["id"]]}))
        again = ok(
            await client.call_tool("delete_contact", {"contact_id": contact["id"], "confirm": preview["confirm"]})
        )

    assert again["outcome"] == "preview"
    assert [(line["outcome"], line.get("detail")) for line in audit.of("delete_contact")] == [
        ("previewed", None),
        ("previewed", "confirm not accepted; a fresh preview was shown"),
    ]


async def test_a_write_whose_answer_failed_to_render_is_still_logged_done(
    connect: Connect, audit: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> list[str]:
        raise ValueError("render exploded")

    monkeypatch.setattr(View, "lines", broken)
    async with connect(ada()) as client:
        result = await client.call_tool("create_account", {"name": "Zq Rendered Ltd"})

    assert result.is_error
    (line,) = audit.parsed
    assert (line["tool"], line["outcome"]) == ("create_account", "done")
    assert line["id"] is not None
