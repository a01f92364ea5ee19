"""The fault matrix: every fault of `fault_upstream.py` × five tool calls (read, create, update, delete, move) × both
routes (gateway, direct), each through the MCP server over real loopback sockets, all at once.

For each cell it records the outcome (the result's first words), the requests the fake CRM received, and the time
taken; it flags a duplicated write, a call over the deadline, a "bug" message, and advice to try again after a write
that may have been applied. Run it: `python tests/faults/fault_matrix.py` prints the table (exit 1 on any flag).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
from fault_upstream import FAULTS, FakeCrm, Target

from lava_crm_mcp.crm import Upstream
from lava_crm_mcp.server import build_server
from lava_crm_mcp.settings import Settings

__all__ = ["DEADLINE", "Cell", "run_matrix", "table"]

DEADLINE = 3.0
GRACE = 3.0  # past the deadline, for the server to wind down and answer (generous: a starved CPU delays it)
PARALLEL = 6  # cells at once: enough to finish in seconds, few enough that one event loop keeps time
TOKEN = "sk_test_fault_matrix_token_0123"
OPERATIONS: dict[str, tuple[str, dict[str, Any], Target]] = {
    "read": ("get_contact", {"contact_id": "c-1"}, Target("GET", "/api/contacts/c-1/")),
    "create": ("create_contact", {"first_name": "Ada", "last_name": "King"}, Target("POST", "/api/contacts/")),
    "update": ("update_contact", {"contact_id": "c-1", "title": "CEO"}, Target("PATCH", "/api/contacts/c-1/")),
    "delete": ("delete_contact", {"contact_id": "c-1"}, Target("DELETE", "/api/contacts/c-1/")),
    "move": (
        "move_deal_to_stage",
        {"deal_id": "d-1", "stage": "Won"},
        Target("PATCH", "/api/deal-pipelines/deals/d-1/move/"),
    ),
}
SETTINGS = Settings(
    call_deadline=DEADLINE, timeout=1.0, max_attempts=3, max_response_bytes=1_000_000, confirm_deletes=False
)


@dataclass
class Cell:
    fault: str
    operation: str
    route: str
    outcome: str = ""
    requests: int = 0
    target_hits: int = 0
    seconds: float = 0.0
    flags: list[str] = field(default_factory=list[str])


async def _run_cell(cell: Cell) -> None:
    tool, arguments, target = OPERATIONS[cell.operation]
    fake = FakeCrm(cell.fault, target)
    async with anyio.create_task_group() as servers:
        port = await servers.start(fake.serve)
        base = f"http://127.0.0.1:{port}"
        gateway = f"{base}/forward" if cell.route == "gateway" else None
        crm = SETTINGS.crm_client(Upstream(base, SecretStr(TOKEN), gateway_url=gateway))
        async with crm, Client(build_server(SETTINGS, crm=crm)) as client:
            started = time.monotonic()
            with anyio.fail_after(DEADLINE * 4):
                result = await client.call_tool(tool, arguments)
            cell.seconds = time.monotonic() - started
        servers.cancel_scope.cancel()
    text = "".join(getattr(block, "text", "") for block in result.content)
    cell.outcome = ("error: " if result.is_error else "ok: ") + text.removeprefix(f"Error executing tool {tool}: ")
    cell.requests, cell.target_hits = len(fake.seen), fake.target_hits
    cell.flags = _flags(cell, text, writes=target.method != "GET")


def _flags(cell: Cell, text: str, *, writes: bool) -> list[str]:
    flags: list[str] = []
    maybe_applied = writes and FAULTS[cell.fault]
    if maybe_applied and cell.target_hits > 1:
        flags.append("DUPLICATED WRITE")
    if cell.seconds > DEADLINE + GRACE:
        flags.append("OVER DEADLINE")
    if "a bug" in text:
        flags.append("BUG MESSAGE")
    if maybe_applied and "try again" in text.lower() and cell.outcome.startswith("error"):
        flags.append("SAYS TRY AGAIN AFTER A WRITE THAT MAY HAVE BEEN APPLIED")
    return flags


async def run_matrix() -> list[Cell]:
    cells = [Cell(fault, op, route) for fault in FAULTS for op in OPERATIONS for route in ("gateway", "direct")]
    limiter = anyio.CapacityLimiter(PARALLEL)

    async def limited(cell: Cell) -> None:
        async with limiter:
            await _run_cell(cell)

    async with anyio.create_task_group() as group:
        for cell in cells:
            group.start_soon(limited, cell)
    return cells


def table(cells: list[Cell]) -> str:
    rows = [f"{'fault':<11}{'op':<8}{'route':<9}{'reqs':>5}{'hits':>5}{'secs':>6}  outcome"]
    for cell in cells:
        outcome = cell.outcome.replace("\n", " ")[:90]
        flags = f"  <-- {', '.join(cell.flags)}" if cell.flags else ""
        rows.append(
            f"{cell.fault:<11}{cell.operation:<8}{cell.route:<9}{cell.requests:>5}{cell.target_hits:>5}"
            f"{cell.seconds:>6.1f}  {outcome}{flags}"
        )
    flagged = sum(1 for cell in cells if cell.flags)
    slowest = max(cell.seconds for cell in cells)
    rows.append(f"{len(cells)} cells, {flagged} flagged; slowest call {slowest:.1f} s (deadline {DEADLINE:g} s)")
    return "\n".join(rows)


def main() -> int:
    cells = anyio.run(run_matrix)
    sys.stdout.write(table(cells) + "\n")
    return 1 if any(cell.flags for cell in cells) else 0


if __name__ == "__main__":
    raise SystemExit(main())
