"""Per answered question: the tool calls each server needs for three everyday questions, their summed latency and
the text tokens the model reads, all behind the same remote-like upstream.

Each question starts from a record id the agent already has, and is answered when the results state what is asked:
  contact  "Show contact X with her deals and open tasks."
  account  "What is open at account A: its open deals, open tasks and open cases?"
  deal     "Where does deal D stand (its stage, by name) and what are its tasks?"
Ours answers each with one get_*; a server without related lists needs the record and one list per kind (the
account's lists are filtered by the account, so its record is not needed; a deal names its stage by id only, so
the stage's name takes the pipeline list). Calls go one after another, as an agent makes them; a question's
latency is the sum of its calls', its tokens those of the results' text content (o200k).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _rpc import Connection, Request
from tokens import encoding

OPEN_TASKS = "New,In Progress"
OPEN_CASES = "New,Assigned,Pending"
Step = tuple[str, str, dict[str, str]]  # ("get" | "list", resource, id or filters)
QUESTIONS = ("contact", "account", "deal")


@dataclass(frozen=True)
class Subjects:
    """The records the questions are about: those with the most to show in the demo org."""

    contact: str
    account: str
    deal: str

    def ours(self, question: str) -> list[Request]:
        record = getattr(self, question)
        return [(f"get_{question}", {f"{question}_id": record})]

    def steps(self, question: str) -> list[Step]:
        """What a server without related lists is asked, in order."""
        if question == "contact":
            return [
                ("get", "contacts", {"id": self.contact}),
                ("list", "opportunities", {"contacts": self.contact}),
                ("list", "tasks", {"contacts": self.contact, "status__in": OPEN_TASKS}),
            ]
        if question == "account":
            return [
                ("list", "opportunities", {"account": self.account, "open": "true"}),
                ("list", "tasks", {"account": self.account, "status__in": OPEN_TASKS}),
                ("list", "cases", {"account": self.account, "status__in": OPEN_CASES}),
            ]
        return [
            ("get", "opportunities", {"id": self.deal}),
            ("list", "deal-pipelines", {}),
            ("list", "tasks", {"opportunity": self.deal}),
        ]


def subjects(deals: list[dict[str, Any]], tasks: list[dict[str, Any]], cases: list[dict[str, Any]]) -> Subjects:
    open_tasks = [task for task in tasks if task["status"] in OPEN_TASKS.split(",")]
    contact = Counter(c for row in deals + open_tasks for c in row.get("contacts") or [])
    work = Counter(row["account"] for row in deals + open_tasks + cases if row.get("account"))
    deal = Counter(task["opportunity"] for task in tasks if task.get("opportunity"))
    return Subjects(contact.most_common(1)[0][0], work.most_common(1)[0][0], deal.most_common(1)[0][0])


def minimal_call(step: Step) -> Request:
    kind, resource, values = step
    if kind == "get":
        return "get_record", {"resource": resource, "id": values["id"]}
    return "list_records", {"resource": resource, "filters": values}


def openapi_call(spec: dict[str, Any], named: dict[str, str]) -> Callable[[Step], Request]:
    """fastmcp's tool for a step: the operation's summary names it; path and query parameters are its arguments."""

    def call(step: Step) -> Request:
        kind, resource, values = step
        path = f"/api/{resource}/{{id}}/" if kind == "get" else f"/api/{resource}/"
        return named[spec["paths"][path]["get"]["summary"]], dict(values)

    return call


@dataclass
class Answers:
    """Per (question, server): the summed latency of each repetition (ms), calls and text tokens."""

    latencies: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    calls: dict[tuple[str, str], int] = field(default_factory=dict)
    tokens: dict[tuple[str, str], int] = field(default_factory=dict)

    def median(self, question: str, name: str) -> float | None:
        found = self.latencies.get((question, name))
        return statistics.median(found) if found else None


async def ask(url: str, calls: list[Request]) -> tuple[float, int]:
    """Summed latency (ms) of the calls, one after another on one connection, and the tokens of their text."""
    connection, took, text = Connection(url), 0.0, []
    try:
        for name, arguments in calls:
            started = time.perf_counter()
            reply = await connection.rpc("tools/call", {"name": name, "arguments": arguments})
            took += (time.perf_counter() - started) * 1000
            if not reply.ok():
                raise RuntimeError(f"{name} {arguments} failed at {url}: {reply.body[:300]!r}")
            result = reply.json()["result"]
            text += [block.get("text", "") for block in result["content"]]
    finally:
        await connection.close()
    return took, sum(len(encoding().encode(part)) for part in text)


async def answer_all(servers: dict[str, tuple[str, Callable[[str], list[Request]]]], reps: int) -> Answers:
    """Every question, `reps` times, the servers' order turning each time."""
    answers = Answers()
    names = list(servers)
    for rep in range(reps):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for question in QUESTIONS:
            for name in order:
                url, calls_for = servers[name]
                calls = calls_for(question)
                took, tokens = await ask(url, calls)
                answers.latencies.setdefault((question, name), []).append(took)
                answers.calls[(question, name)], answers.tokens[(question, name)] = len(calls), tokens
    return answers
