"""Cold start: our stdio server vs a minimal server on the same SDK, side by side.

    python bench/cold_start.py [--pairs 15] [--sandbox]

Each run spawns the server and times, from the spawn, the answer to `initialize` and then to `tools/list` (what a
host waits for before it can show the tools). The two servers start in alternating order, pair after pair; the figure
is the median of the per-pair ratios. Ours runs with a CRM token for a loopback URL it never contacts (nothing is
read at start), or with `--sandbox` on a fresh demo database; the minimal peer is bench/peers/minimal_server.py.
Target (issue "Ship it"): tools/list ratio ≤ 1.15.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import LOOPBACK

ROOT = Path(__file__).resolve().parent
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}
MESSAGES = [INITIALIZE, {"jsonrpc": "2.0", "method": "notifications/initialized"}]
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
TIMEOUT = 30.0


def _read_answer(process: subprocess.Popen[bytes], wanted: int) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{process.args} closed stdout before answering request {wanted}")
        message = json.loads(line)
        if message.get("id") == wanted:
            if "error" in message:
                raise RuntimeError(f"{process.args} answered request {wanted} with {message['error']}")
            return
    raise RuntimeError(f"{process.args}: no answer to request {wanted} within {TIMEOUT} s")


def one_start(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the initialize answer, seconds to the tools/list answer) of one fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own server commands
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdin is not None
    try:
        process.stdin.write(b"".join(json.dumps(message).encode() + b"\n" for message in MESSAGES))
        process.stdin.flush()
        _read_answer(process, 1)
        initialized = time.perf_counter() - started
        process.stdin.write(json.dumps(LIST).encode() + b"\n")
        process.stdin.flush()
        _read_answer(process, 2)
        return initialized, time.perf_counter() - started
    finally:
        process.kill()
        process.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15, help="alternating pairs of starts (default 15)")
    parser.add_argument("--sandbox", action="store_true", help="start ours on a fresh demo sandbox each time")
    args = parser.parse_args()
    base = {key: value for key, value in os.environ.items() if not key.startswith("LAVA_")}
    crm = {"LAVA_CRM_BASE_URL": f"http://{LOOPBACK}:9", "LAVA_CRM_TOKEN": "bench-token-never-sent"}
    minimal = ([sys.executable, str(ROOT / "peers" / "minimal_server.py"), "stdio"], {**base, **crm})
    with tempfile.TemporaryDirectory() as work:
        runs: dict[str, list[tuple[float, float]]] = {"ours": [], "minimal": []}
        for pair in range(args.pairs):
            ours_args = ["-m", "lava_crm_mcp", "stdio"]
            if args.sandbox:
                ours_args += ["--sandbox", str(Path(work) / f"sandbox-{pair}.sqlite3")]
            ours = ([sys.executable, *ours_args], {**base, **({} if args.sandbox else crm)})
            order = [("ours", ours), ("minimal", minimal)]
            for name, (command, env) in order if pair % 2 == 0 else reversed(order):
                runs[name].append(one_start(command, env))
    _report(runs, args)
    return 0


def _report(runs: dict[str, list[tuple[float, float]]], args: argparse.Namespace) -> None:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    what = "fresh sandbox" if args.sandbox else "CRM token"
    out = [f"cold start, {args.pairs} alternating pairs, ours with a {what}; {os.cpu_count()} CPUs, load {load}"]
    for index, label in ((0, "initialize answered"), (1, "tools/list answered")):
        ours = [run[index] * 1000 for run in runs["ours"]]
        minimal = [run[index] * 1000 for run in runs["minimal"]]
        ratio = statistics.median(a / b for a, b in zip(ours, minimal, strict=True))
        verdict = f"  (target ≤ 1.15: {'ok' if ratio <= 1.15 else 'MISS'})" if index else ""
        out.append(
            f"{label:20} ours p50 {statistics.median(ours):6.0f} ms   minimal p50 {statistics.median(minimal):6.0f} ms"
            f"   median ratio {ratio:.2f}{verdict}"
        )
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main())
