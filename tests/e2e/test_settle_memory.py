"""Before serving HTTP, what start-up built is frozen out of the cyclic collector (serving.settle_memory); checked in
a process of its own, so the test run's collector stays as it is."""

from __future__ import annotations

import subprocess
import sys

from conftest import clean_env

PROBE = """
import gc
from lava_crm_mcp.serving import settle_memory
settle_memory()
print(gc.get_freeze_count())
"""


def test_serving_freezes_what_start_up_built() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=clean_env(), timeout=120, check=True
    )

    assert int(done.stdout) > 10_000  # the SDK, pydantic and the server's modules
