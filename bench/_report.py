"""What bench/compare.py measured, and its one table: medians over rounds and medians of per-round ratios."""

from __future__ import annotations

import importlib.metadata
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _common import percentile
from _rpc import Phase
from tokens import compact, encoding, model_view

KINDS = ("get", "search")
PerRound = dict[int, float]
HIGHER, LOWER = "higher", "lower"  # which way is better for ours


@dataclass
class Figures:
    names: list[str]
    plan: Any
    load_start: tuple[float, float, float]
    cpus: int
    series: dict[tuple[str, str], PerRound] = field(default_factory=lambda: defaultdict(dict))
    upstream: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_errors: dict[str, str] = field(default_factory=dict)
    stateless: list[str] = field(default_factory=list)  # checked: calls without a session, JSON answers, no session id
    rows: dict[str, int] = field(default_factory=dict)
    rss: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    tokens: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    complete: bool = False
    failure: str | None = None
    load_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    elapsed: float = 0.0
    tools: dict[str, tuple[str, str]] = field(default_factory=dict)

    def stdio(self, name: str, kind: str, round_number: int, raw: float, p50: float, p95: float) -> None:
        for metric, value in (("raw", raw), ("added p50", p50 - raw), ("added p95", p95 - raw)):
            self.series[(name, f"stdio {kind} {metric}")][round_number] = value

    def http(self, name: str, kind: str, round_number: int, phase: Phase, gets: int, cpu: tuple[float, float]) -> None:
        """One HTTP phase: its latencies, the GETs the sandbox saw, CPU seconds of the server and of the client."""
        lat = phase.latencies or [float("nan")]
        for metric, value in (
            ("calls/s", phase.calls_per_s),
            ("p50", statistics.median(lat)),
            ("p95", percentile(lat, 0.95)),
            ("server CPU", cpu[0] * 1000 / max(phase.calls, 1)),
            ("client CPU", cpu[1] * 100 / phase.elapsed if phase.elapsed else float("nan")),
        ):
            self.series[(name, f"HTTP {kind} {metric}")][round_number] = value
        self.failed(name, phase)
        counts = self.upstream[(name, kind)]
        counts[0] += gets
        counts[1] += phase.calls

    def failed(self, name: str, phase: Phase) -> None:
        """Count a phase's failed calls, and keep the first failure's answer."""
        self.errors[name] += phase.errors
        if phase.first_error and name not in self.first_errors:
            self.first_errors[name] = phase.first_error

    def rss_after(self, name: str, calls: int, mib: float) -> None:
        self.rss[name].append((calls, mib))

    def catalog(self, name: str, tools: list[dict[str, Any]], pair: tuple[str, str]) -> None:
        enc = encoding()
        visible = [model_view(tool) for tool in tools]
        both = [view for view in visible if view["name"] in pair]
        self.tokens[name] = (len(tools), len(enc.encode(compact({"tools": visible}))), len(enc.encode(compact(both))))

    def short_of_rss_calls(self) -> bool:
        return any(len(points) < 2 or points[-1][0] < self.plan.rss_calls for points in self.rss.values())

    def finish(self, load_end: tuple[float, float, float], elapsed: float, tools: dict[str, tuple[str, str]]) -> None:
        self.load_end, self.elapsed, self.tools = load_end, elapsed, tools


def _num(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    if float(value).is_integer():
        return f"{value:,.0f}"
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:,.{digits}f}"


def _ratio(ours: float | None, peer: float | None) -> float | None:
    if ours is None or peer is None or peer <= 0 or ours != ours or peer != peer:
        return None
    return ours / peer


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[str], float | None]  # per server: the figure shown
    ratio: Callable[[str], float | None] | None = None  # per peer: ours/peer (median of per-round ratios)
    target: tuple[float | None, float | None, str] | None = None  # vs minimal, vs fastmcp, better


def _rows(f: Figures) -> list[Row]:
    def over_rounds(metric: str) -> tuple[Callable[[str], float | None], Callable[[str], float | None]]:
        def value(name: str) -> float | None:
            rounds = f.series.get((name, metric), {})
            return statistics.median(rounds.values()) if rounds else None

        def ratio(peer: str) -> float | None:
            ours, theirs = f.series.get(("ours", metric), {}), f.series.get((peer, metric), {})
            ratios = [r for n in ours.keys() & theirs.keys() if (r := _ratio(ours[n], theirs[n])) is not None]
            return statistics.median(ratios) if ratios else None

        return value, ratio

    def plain(value: Callable[[str], float | None]) -> tuple[Callable[[str], float | None], Callable[[str], Any]]:
        return value, lambda peer: _ratio(value("ours"), value(peer))

    def rss(index: int) -> Callable[[str], float | None]:
        return lambda name: f.rss[name][index][1] if len(f.rss[name]) > index else None

    def growth(name: str) -> float | None:
        first, last = rss(0)(name), rss(1)(name)
        return None if first is None or last is None else (last / first - 1) * 100

    def per_call(kind: str) -> Callable[[str], float | None]:
        return lambda name: (lambda c: c[0] / c[1] if c[1] else None)(f.upstream[(name, kind)])

    rows: list[Row] = []
    for kind in KINDS:
        rows.append(Row(f"stdio {kind}: raw GET p50 ms", over_rounds(f"stdio {kind} raw")[0]))
        for pct in ("p50", "p95"):
            target = (1.10, None, LOWER) if pct == "p50" else None
            rows.append(Row(f"stdio {kind}: added {pct} ms", *over_rounds(f"stdio {kind} added {pct}"), target))
    for kind in KINDS:
        rows.append(Row(f"HTTP {kind}: calls/s", *over_rounds(f"HTTP {kind} calls/s"), (1.0, 1.1, HIGHER)))
        rows += [Row(f"HTTP {kind}: {pct} ms", *over_rounds(f"HTTP {kind} {pct}")) for pct in ("p50", "p95")]
        rows.append(Row(f"HTTP {kind}: server CPU ms/call", *over_rounds(f"HTTP {kind} server CPU")))
        rows.append(Row(f"HTTP {kind}: load-generator CPU %", over_rounds(f"HTTP {kind} client CPU")[0]))
    rows += [
        Row("HTTP failed calls (all phases)", lambda name: float(f.errors[name])),
        Row("upstream GETs per get call", per_call("get")),
        Row("upstream GETs per search call", per_call("search")),
        Row("rows per search call", lambda name: f.rows.get(name)),
        Row("RSS after 100 calls MiB", *plain(rss(0))),
        Row("RSS at end MiB (calls below)", *plain(rss(1))),
        Row("calls served at end", lambda name: float(f.rss[name][1][0]) if len(f.rss[name]) > 1 else None),
        Row("RSS growth %", growth, None, (None, None, "≤ 10 %")),
        Row("tools in catalog", *plain(lambda name: _token(f, name, 0))),
        Row("catalog tokens (o200k)", *plain(lambda name: _token(f, name, 1))),
        Row("tokens of the 2 compared tools", *plain(lambda name: _token(f, name, 2))),
    ]
    return rows


def _token(f: Figures, name: str, index: int) -> float | None:
    return float(f.tokens[name][index]) if name in f.tokens else None


def _verdict(ratio: float | None, bound: float | None, better: str) -> str:
    if ratio is None or bound is None:
        return ""
    met = ratio >= bound if better == HIGHER else ratio <= bound
    return " ok" if met else " MISS"


def _cells(f: Figures, row: Row) -> list[str]:
    peers = [name for name in f.names if name != "ours"]
    cells = [_num(row.value(name)) for name in f.names]
    for index, peer in enumerate(peers):
        ratio = row.ratio(peer) if row.ratio else None
        bound = row.target[index] if row.target and index < 2 else None
        cells.append("" if ratio is None else _num(ratio) + _verdict(ratio, bound, row.target[2] if row.target else ""))
    if row.target is None:
        cells.append("")
    elif row.target[2] in (HIGHER, LOWER):
        sign = "≥" if row.target[2] == HIGHER else "≤"
        cells.append(" ".join(f"{sign}{b} vs {p}" for b, p in zip(row.target[:2], peers, strict=False) if b))
    else:
        growth = row.value("ours")
        cells.append(row.target[2] + ("" if growth is None else " ok" if growth <= 10 else " MISS"))
    return cells


def _versions() -> str:
    found = []
    for package in ("lava-crm-mcp", "mcp", "fastmcp", "uvicorn", "uvloop", "httptools"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} not installed")
    return ", ".join(found)


def render(f: Figures) -> str:
    peers = [name for name in f.names if name != "ours"]
    header = ["metric", *f.names, *(f"ours/{peer}" for peer in peers), "target (ours)"]
    table = [header] + [[row.label, *_cells(f, row)] for row in _rows(f)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        f"bench/compare.py: {_versions()}",
        *(f"  {label}: get={get} search={search}" for label, (get, search) in f.tools.items()),
        f"  {f.cpus} CPUs; load average {_load(f.load_start)} at start, {_load(f.load_end)} at end; "
        f"elapsed {f.elapsed:.0f} s; {f.plan.rounds} round(s): stdio {f.plan.stdio_pairs} call/GET pairs per tool, "
        f"HTTP {f.plan.phase_seconds:g} s per tool at 8 clients; RSS target {f.plan.rss_calls:,} calls",
    ]
    if f.stateless:
        lines.append(f"  stateless JSON checked (no session, no session id, JSON answers): {', '.join(f.stateless)}")
    if "fastmcp" not in f.names:
        lines.append("  fastmcp is not installed (pip install -e '.[bench]'): ours vs minimal only")
    if not f.complete:
        lines.append("  INCOMPLETE: the deadline or a failure cut the run short; '-' marks what was not measured")
    if f.failure:
        lines.append(f"  failure: {f.failure}")
    lines += [f"  first failed call of {name}: {error}" for name, error in f.first_errors.items()]
    if f.short_of_rss_calls():
        lines.append(f"  the RSS top-up stopped short of {f.plan.rss_calls:,} calls: see 'calls served at end'")
    lines.append("")
    for line in table:
        cells = [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        lines.append("  ".join([line[0].ljust(widths[0]), *cells]).rstrip())
    lines += [
        "",
        "stdio added pXX = pXX of the tool call (SDK client, incl. its output-schema check) - median raw GET, same "
        "round; ratios are medians of per-round ratios; RSS of the HTTP process (VmRSS).",
    ]
    return "\n".join(lines) + "\n"


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{value:.2f}" for value in values)
