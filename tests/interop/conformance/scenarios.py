"""Helper of .ci/interop.sh for the conformance suite and scenarios.txt (standard library only).

scenarios.py triage LIST_OUTPUT      scenarios.txt names each server scenario of `conformance list` once
scenarios.py names MODE              the scenarios to run against the stateless|stateful server
scenarios.py judge OUT_DIR RC LABEL  one scenario run: PASS only on exit 0, >= 1 SUCCESS, no FAILURE/WARNING
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SCENARIOS = Path(__file__).with_name("scenarios.txt")
KINDS = ("run", "stateful", "skip")


def parse() -> dict[str, str]:
    """scenario name -> run|stateful|skip, from scenarios.txt; exits with a message on a malformed line."""
    found: dict[str, str] = {}
    for number, line in enumerate(SCENARIOS.read_text().splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) < 2 or words[0] not in KINDS or words[1] in found:
            sys.exit(f"{SCENARIOS.name}:{number}: bad or repeated line: {line.strip()}")
        if words[0] == "skip" and len(words) < 3:
            sys.exit(f"{SCENARIOS.name}:{number}: {words[1]} is left out without a reason")
        found[words[1]] = words[0]
    return found


def triage(list_output: str) -> None:
    server_part = Path(list_output).read_text().split("Client scenarios")[0]
    suite = set(re.findall(r"^\s+- (\S+)", server_part, re.MULTILINE))
    ours = parse()
    if not suite:
        sys.exit(f"no server scenario found in the output of `conformance list`: {server_part[:300]!r}")
    if suite != set(ours):
        sys.exit(
            f"{SCENARIOS.name} does not match the suite: not triaged {sorted(suite - set(ours))}, "
            f"unknown {sorted(set(ours) - suite)}"
        )
    count = {kind: sum(k == kind for k in ours.values()) for kind in KINDS}
    print(
        f"{len(suite)} server scenarios: {count['run']} run (+{count['stateful']} on --stateful only), "
        f"{count['skip']} left out"
    )


def names(mode: str) -> None:
    wanted = {"stateless": ("run",), "stateful": ("run", "stateful")}[mode]
    print("\n".join(name for name, kind in parse().items() if kind in wanted))


def judge(out_dir: str, rc: str, label: str) -> None:
    checks = [c for f in sorted(Path(out_dir).glob("*/checks.json")) for c in json.loads(f.read_text())]
    by = {s: [c for c in checks if c.get("status") == s] for s in ("SUCCESS", "FAILURE", "WARNING")}
    bad = [f"{c['status']} {c.get('id')}: {c.get('errorMessage') or c.get('details')}" for c in by["FAILURE"]]
    bad += [f"{c['status']} {c.get('id')}: {c.get('errorMessage') or c.get('details')}" for c in by["WARNING"]]
    if rc == "0" and by["SUCCESS"] and not bad:
        ids = ", ".join(str(c.get("id")) for c in by["SUCCESS"])
        print(f"PASS {label}: {len(by['SUCCESS'])} check(s): {ids}")
        return
    print(f"FAIL {label}: exit {rc}, {len(by['SUCCESS'])} SUCCESS; " + ("; ".join(bad)[:1500] or "no check ran"))
    sys.exit(1)


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["triage", list_output]:
            triage(list_output)
        case ["names", ("stateless" | "stateful") as mode]:
            names(mode)
        case ["judge", out_dir, rc, label]:
            judge(out_dir, rc, label)
        case _:
            sys.exit(__doc__)
