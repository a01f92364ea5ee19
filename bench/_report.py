"""What bench/compare.py measured, and its tables: medians over rounds and medians of per-round ratios."""

from __future__ import annotations

import importlib.metadata
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from _common import percentile
from _questions import QUESTIONS, Answers
from _rpc import Phase
from tokens import compact, encoding, model_view

Key = tuple[str, str]  # (server, metric)
HIGHER, LOWER = "≥", "≤"
FAST = "40 ms"


@dataclass
class Figures:
    plan: Any
    load_start: tuple[float, float, float]
    cpus: int
    series: dict[Key, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    upstream: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_errors: dict[str, str] = field(default_factory=dict)
    stateless: list[str] = field(default_factory=list)  # checked: calls without a session, JSON answers, no session id
    rows: dict[str, int] = field(default_factory=dict)
    rss: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    tokens: dict[str, tuple[int, int]] = field(default_factory=dict)
    cold: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    answers: Answers | None = None
    notes: list[str] = field(default_factory=list)
    complete: bool = False
    failure: str | None = None
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    elapsed: float = 0.0

    def stdio(self, name: str, kind: str, round_number: int, raw: float, p50: float, p95: float) -> None:
        for metric, value in (("raw", raw), ("added p50", p50 - raw), ("added p95", p95 - raw)):
            self.series[(name, f"stdio {kind} {metric}")][round_number] = value

    def http(self, name: str, phase_name: str, round_number: int, phase: Phase, gets: int, cpu: float) -> None:
        """One load phase: its latencies, the upstream GETs it caused, the server's CPU seconds."""
        lat = phase.latencies or [float("nan")]
        p50, p95 = statistics.median(lat), percentile(lat, 0.95)
        for metric, value in (
            ("calls/s", phase.calls_per_s),
            ("p50", p50),
            ("p95", p95),
            ("p95/p50", p95 / p50 if p50 else float("nan")),
            ("CPU", cpu * 1000 / max(phase.calls, 1)),
        ):
            self.series[(name, f"{phase_name} {metric}")][round_number] = value
        self.failed(name, phase)
        counts = self.upstream[(name, phase_name)]
        counts[0] += gets
        counts[1] += phase.calls

    def failed(self, name: str, phase: Phase) -> None:
        self.errors[name] += phase.errors
        if phase.first_error and name not in self.first_errors:
            self.first_errors[name] = phase.first_error

    def catalog(self, name: str, tools: list[dict[str, Any]]) -> None:
        visible = [model_view(tool) for tool in tools]
        self.tokens[name] = (len(tools), len(encoding().encode(compact({"tools": visible}))))

    def value(self, key: Key) -> float | None:
        rounds = self.series.get(key, {})
        return statistics.median(rounds.values()) if rounds else None

    def ratio(self, ours: Key, peer: Key) -> float | None:
        mine, theirs = self.series.get(ours, {}), self.series.get(peer, {})
        found = [mine[n] / theirs[n] for n in mine.keys() & theirs.keys() if theirs[n] and theirs[n] == theirs[n]]
        return statistics.median(found) if found else None

    def per_call(self, name: str, phase_name: str) -> float | None:
        gets, calls = self.upstream.get((name, phase_name), (0, 0))
        return gets / calls if calls else None

    def rss_growth(self, name: str) -> float | None:
        points = self.rss.get(name, [])
        return (points[-1][1] / points[0][1] - 1) * 100 if len(points) > 1 else None

    def short_of_rss_calls(self) -> bool:
        """Whether ours (direct) was not brought to plan.rss_calls calls (the others are measured as they are)."""
        points = self.rss.get("ours", [])
        return len(points) < 2 or points[-1][0] < self.plan.rss_calls


def num(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    if float(value).is_integer() and abs(value) >= 10:
        return f"{value:,.0f}"
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:,.{digits}f}"


def verdict(value: float | None, sign: str, bound: float) -> str:
    if value is None or value != value:
        return f"{sign} {bound:g} -"
    met = value >= bound if sign == HIGHER else value <= bound
    return f"{sign} {bound:g} {'ok' if met else 'MISS'}"


def table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> list[str]:
    rows = [list(header), *map(list, lines)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]).rstrip()
        for row in rows
    ]


def _remote(f: Figures) -> list[str]:
    lines: list[list[str]] = []
    for clients in (1, 8, 32):
        phase = f"get@{clients}"
        for metric, label, target in (
            ("calls/s", "calls/s", (HIGHER, 1.0) if clients > 1 else None),
            ("p50", "p50 ms", None),
            ("p95", "p95 ms", None),
            ("p95/p50", "p95 / p50", None),
            ("CPU", "server CPU ms/call", (LOWER, 1.05) if clients > 1 else None),
        ):
            ours, floor = ("ours@40", f"{phase} {metric}"), ("floor@40", f"{phase} {metric}")
            ratio = f.ratio(ours, floor)
            aim = verdict(ratio, *target) if target else ""
            if metric == "p95/p50":
                aim = f"ours {verdict(f.value(ours), LOWER, 1.25)}"
            lines.append(
                [
                    f"{clients} client{'s' if clients > 1 else ''}: {label}",
                    num(f.value(ours)),
                    num(f.value(floor)),
                    num(ratio),
                    aim,
                ]
            )
    workers = f.ratio(("ours 2 workers@40", "get@32 calls/s"), ("ours@40", "get@32 calls/s"))
    lines.append(["32 clients, 2 workers: calls/s", num(f.value(("ours 2 workers@40", "get@32 calls/s"))), "", "", ""])
    lines.append(["  2 workers / 1 worker", num(workers), "", "", verdict(workers, HIGHER, 1.5)])
    lines.append(
        ["upstream GETs per call", num(f.per_call("ours@40", "get@8")), num(f.per_call("floor@40", "get@8")), "", ""]
    )
    proxy = f.value(("proxy", "CPU %"))
    lines.append(["latency proxy CPU, % of a core", num(proxy), "", "", ""])
    header = ["get_contact, HTTP, behind the 40 ms upstream", "ours", "floor", "ours/floor", "target"]
    return table(header, lines)


def _direct(f: Figures) -> list[str]:
    names = [
        n
        for n in ("ours", "minimal", "fastmcp")
        if (n, "search@8 calls/s") in f.series or (n, "stdio get raw") in f.series
    ]
    peers = [n for n in names if n != "ours"]
    rows: list[tuple[str, str, tuple[str, float] | None]] = []
    for kind in ("get", "search"):
        rows += [
            (f"stdio {kind}: raw GET p50 ms", f"stdio {kind} raw", None),
            (f"stdio {kind}: added p50 ms", f"stdio {kind} added p50", (LOWER, 1.1) if kind == "search" else None),
            (f"stdio {kind}: added p95 ms", f"stdio {kind} added p95", None),
        ]
    rows += [
        ("HTTP search@8: calls/s", "search@8 calls/s", (HIGHER, 1.0)),
        ("HTTP search@8: p50 ms", "search@8 p50", None),
        ("HTTP search@8: p95 ms", "search@8 p95", None),
        ("HTTP search@8: server CPU ms/call", "search@8 CPU", None),
    ]
    lines = []
    for label, metric, target in rows:
        ratios = [f.ratio(("ours", metric), (peer, metric)) for peer in peers]
        aim = verdict(ratios[0], *target) + " vs minimal" if target and ratios else ""
        lines.append([label, *(num(f.value((n, metric))) for n in names), *map(num, ratios), aim])
    lines.append(["rows per search call", *(num(f.rows.get(n)) for n in names), *("" for _ in peers), ""])
    header = ["direct (0 ms replay)", *names, *(f"ours/{p}" for p in peers), "target"]
    return table(header, lines)


def _questions(f: Figures) -> list[str]:
    answers = f.answers
    if answers is None:
        return ["per answered question: not measured"]
    lines = []
    names = sorted({name for _, name in answers.latencies}, key=("ours@40", "minimal@40", "fastmcp@40").index)
    for question in QUESTIONS:
        ours_ms, ours_tokens = answers.median(question, "ours@40"), answers.tokens.get((question, "ours@40"))
        for name in names:
            ms, tokens = answers.median(question, name), answers.tokens.get((question, name))
            faster = ms / ours_ms if ms and ours_ms and name != "ours@40" else None
            share = ours_tokens / tokens if tokens and ours_tokens and name != "ours@40" else None
            aim = ""
            if name == "fastmcp@40":
                aim = f"speed {verdict(faster, HIGHER, 2.5)}; tokens {verdict(share, LOWER, 0.4)}"
            calls = answers.calls.get((question, name))
            lines.append(
                [question, name.removesuffix("@40"), num(calls), num(ms), num(tokens), num(faster), num(share), aim]
            )
    header = [
        "question (40 ms upstream)",
        "server",
        "calls",
        "summed ms",
        "text tokens",
        "x slower than ours",
        "ours/its tokens",
        "target vs fastmcp",
    ]
    return table(header, lines)


def _footprint(f: Figures) -> list[str]:
    names = list(f.rss)
    lines = [
        ["RSS after 100 calls MiB", *(num(f.rss[n][0][1]) for n in names)],
        ["RSS at end MiB", *(num(f.rss[n][-1][1]) for n in names)],
        ["calls served at end", *(num(float(f.rss[n][-1][0])) for n in names)],
        ["RSS growth % (target ours ≤ 10)", *(num(f.rss_growth(n)) for n in names)],
    ]
    out = table(["memory (HTTP process)", *names], lines)
    ours, minimal = f.cold.get("ours", []), f.cold.get("minimal", [])
    if ours and minimal:
        ratio = statistics.median(a / b for a, b in zip(ours, minimal, strict=False))
        out.append(
            f"cold start, spawn to tools/list answered (stdio): ours {num(statistics.median(ours))} ms, minimal "
            f"{num(statistics.median(minimal))} ms, median ratio {num(ratio)} (target {verdict(ratio, LOWER, 1.1)})"
        )
    out.append("catalog: " + "; ".join(f"{n} {t:,} tools, {k:,} tokens" for n, (t, k) in f.tokens.items()))
    return out


def _versions() -> str:
    found = []
    for package in ("lava-crm-mcp", "mcp", "fastmcp", "uvicorn", "uvloop", "httptools", "httpx"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} not installed")
    return ", ".join(found)


def render(f: Figures) -> str:
    p = f.plan
    lines = [
        f"bench/compare.py: {_versions()}",
        f"  {f.cpus} CPUs; load average {_load(f.load_start)} at start, {_load(f.load_end)} at end; elapsed "
        f"{f.elapsed:.0f} s; {p.rounds} round(s) in alternating order, {p.phase_seconds:g} s per load phase; "
        f"upstream: the sandbox replayed on loopback, 0 ms or {FAST} added per request",
        *(f"  {note}" for note in f.notes),
    ]
    if f.stateless:
        lines.append(f"  stateless JSON checked (no session, no session id, JSON answers): {', '.join(f.stateless)}")
    if not f.complete:
        lines.append("  INCOMPLETE: the deadline or a failure cut the run short; '-' marks what was not measured")
    if f.failure:
        lines.append(f"  failure: {f.failure}")
    lines += [f"  first failed call of {name}: {error}" for name, error in f.first_errors.items()]
    if f.short_of_rss_calls():
        lines.append(f"  RSS: ours served fewer than {p.rss_calls:,} calls: see 'calls served at end'")
    for part in (_remote(f), _direct(f), _questions(f), _footprint(f)):
        lines += ["", *part]
    lines += [
        "",
        "floor = the same-work floor: the SDK's low-level Server making the same upstream reads as our get_contact, "
        "side by side, and returning their JSON. Ratios are medians of per-round ratios; CPU from /proc "
        "(user+system of the server's process tree) over the phase, divided by the calls; stdio added pXX = pXX of "
        "the tool call minus the median raw GET of the same round.",
    ]
    return "\n".join(lines) + "\n"


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{value:.2f}" for value in values)
