"""The fault matrix in CI: 12 upstream faults × 5 tool calls × 2 routes over real loopback sockets. It fails on a
duplicated write, a call over the deadline, a "bug" message, or advice to try again after a write that may have
been applied; the table is in the failure message (and `python tests/faults/fault_matrix.py` prints it)."""

from __future__ import annotations

import pytest
from fault_matrix import OPERATIONS, run_matrix, table
from fault_upstream import FAULTS

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_no_fault_duplicates_a_write_overruns_the_deadline_or_reads_as_a_bug() -> None:
    cells = await run_matrix()

    assert len(cells) == len(FAULTS) * len(OPERATIONS) * 2
    assert all(cell.outcome for cell in cells), table(cells)
    assert not [cell for cell in cells if cell.flags], table(cells)
    writes_met_by_a_fault = [c for c in cells if c.operation != "read" and FAULTS[c.fault]]
    assert all(cell.target_hits <= 1 for cell in writes_met_by_a_fault), table(cells)
