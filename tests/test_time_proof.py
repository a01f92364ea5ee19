"""Every time, date and deadline a test uses is computed when the test runs, never when pytest imports or collects
its module: on a slow, busy machine a test may run minutes after collection, and a token that was "not yet valid"
then is valid. This reads every test module and flags clock reads that run at import or collection time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
CLOCKS = frozenset({"time", "time_ns", "monotonic", "perf_counter", "now", "utcnow", "today", "fromtimestamp"})
Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def _reads_clock(node: ast.AST, helpers: set[str]) -> bool:
    """Whether evaluating `node` calls a clock, directly or through a helper of the module that does."""
    for found in ast.walk(node):
        if not isinstance(found, ast.Call):
            continue
        function = found.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if name in CLOCKS or name in helpers:
            return True
    return False


def _clock_helpers(tree: ast.Module) -> set[str]:
    """Functions of the module that read a clock when called (fixed point: helpers calling helpers count)."""
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    helpers: set[str] = set()
    while True:
        more = {function.name for function in functions if _reads_clock(function, helpers)} - helpers
        if not more:
            return helpers
        helpers |= more


def _evaluated_at_import(tree: ast.Module) -> list[ast.AST]:
    """What runs when the module is imported: module and class bodies (but not the functions they define),
    decorators (parametrize values among them) and default argument values."""
    found: list[ast.AST] = []

    def body(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                found.extend(statement.decorator_list)
                found.extend(statement.args.defaults)
                found.extend(default for default in statement.args.kw_defaults if default is not None)
            elif isinstance(statement, ast.ClassDef):
                found.extend(statement.decorator_list)
                body(statement.body)
            elif not isinstance(statement, ast.Import | ast.ImportFrom) and not _is_main_guard(statement):
                found.append(statement)

    body(tree.body)
    return found


def _is_main_guard(statement: ast.stmt) -> bool:
    """`if __name__ == "__main__":` runs when the file is run as a script, never when pytest imports it."""
    test = statement.test if isinstance(statement, ast.If) else None
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"


def _without_deferred(node: ast.AST) -> ast.AST:
    """The node with the bodies of lambdas and nested functions blanked: they run later, when called."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Lambda):
            inner.body = ast.Constant(None)
    return node


def collection_time_clocks(source: str) -> list[int]:
    """The lines of `source` where a clock is read at import or collection time."""
    tree = ast.parse(source)
    helpers = _clock_helpers(tree)
    spots = [_without_deferred(node) for node in _evaluated_at_import(tree)]
    return sorted({getattr(spot, "lineno", 0) for spot in spots if _reads_clock(spot, helpers)})


def test_no_test_module_reads_a_clock_when_it_is_imported_or_collected() -> None:
    offending = {
        str(path.relative_to(TESTS)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if (lines := collection_time_clocks(path.read_text(encoding="utf-8")))
    }
    assert offending == {}, "compute these inside the test (or a fixture), not at import/collection time"


PLANTED = {
    "a module constant": "import time\nSTARTED = time.time()\n",
    "a parametrize value": (
        "import pytest, datetime\n"
        "@pytest.mark.parametrize('day', [datetime.date.today()])\n"
        "def test_x(day):\n    pass\n"
    ),
    "a helper called in a decorator": (
        "import time, pytest\n"
        "def later(s):\n    return int(time.time()) + s\n"
        "@pytest.mark.parametrize('claims', [{'nbf': later(120)}])\n"
        "def test_x(claims):\n    pass\n"
    ),
    "a default argument": "import time\ndef token(exp=time.time() + 60):\n    return exp\n",
    "a class attribute": "import datetime as dt\nclass Fixture:\n    now = dt.datetime.now()\n",
}
FINE = {
    "inside a test": "import time\ndef test_x():\n    assert time.time() > 0\n",
    "inside a fixture": "import pytest, time\n@pytest.fixture\ndef now():\n    return time.time()\n",
    "a lambda called later": "import time\nclock = lambda: time.time()\n",
    "a function passed, not called": "import time\nCLOCK = time.monotonic\n",
    "a script's main block": "import time\nif __name__ == '__main__':\n    print(time.time())\n",
}


@pytest.mark.parametrize("source", PLANTED.values(), ids=PLANTED.keys())
def test_a_planted_collection_time_clock_is_found(source: str) -> None:
    assert collection_time_clocks(source) != []


@pytest.mark.parametrize("source", FINE.values(), ids=FINE.keys())
def test_a_clock_read_when_the_test_runs_is_fine(source: str) -> None:
    assert collection_time_clocks(source) == []
