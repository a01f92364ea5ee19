"""Hand mutations that the suite must catch: each breaks one guard in a copy of the project, runs the tests named for
that guard, and expects them to fail. A mutation the tests survive is a guard nothing protects.

    python tests/mutations.py            # every mutation, one by one (about a minute); exit 1 if one survives

The copy lives in a temporary directory (the working tree is never touched) and is imported ahead of the installed
package through PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("lava_crm_mcp", "tests", "pyproject.toml")


@dataclass(frozen=True)
class Mutation:
    """Replace `before` (found exactly once) by `after` in `path`; `tests` must then fail. An empty `before` means
    `path` is a new file holding `after`."""

    name: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation(
        "money guard: an orphaning delete not blocked",
        "lava_crm_mcp/tools/record_deletes.py",
        'outcome="preview" if plan or not items else "blocked",',
        'outcome="preview",',
        (
            "tests/tools/test_money_guard.py::test_an_unpaid_invoice_blocks_an_orphaning_delete_and_is_listed_with_its_value",
        ),
    ),
    Mutation(
        "paging: the cursor's remembered row ignored",
        "lava_crm_mcp/crm/scan.py",
        "        if cursor.after is None:\n            return page, cursor.skip\n",
        "        if True:\n            return page, cursor.skip\n",
        ("tests/tools/test_stable_paging.py",),
    ),
    Mutation(
        "sync: a row that needs a decision written anyway",
        "lava_crm_mcp/tools/sync_plan.py",
        "if len(matched) > 1:",
        "if len(matched) > 99:",
        ("tests/tools/test_many_records.py::test_ambiguous_and_contradicting_rows_are_never_written",),
    ),
    Mutation(
        "paging: no id-based repeat detection",
        "lava_crm_mcp/crm/scan.py",
        "if (ids and all(ident in self.seen for ident in ids)) or stuck:",
        "if stuck:",
        (
            "tests/crm/test_guards.py::test_a_crm_that_ignores_offset_but_advances_next_never_makes_a_search_repeat_rows",
        ),
    ),
    Mutation(
        "pipeline catalog cache not keyed by the credential",
        "lava_crm_mcp/crm/pipelines.py",
        "        self._scope = scope\n",
        '        self._scope = ""\n',
        ("tests/crm/test_guards.py::test_one_org_never_sees_another_orgs_stages_from_the_pipeline_catalog_cache",),
    ),
    Mutation(
        "deal seats (board placement) not keyed by the credential",
        "lava_crm_mcp/crm/seats.py",
        "self._cache, self._scope = catalog, columns, cache, scope",
        'self._cache, self._scope = catalog, columns, cache, ""',
        ("tests/crm/test_guards.py::test_one_org_never_places_its_deals_from_another_orgs_boards",),
    ),
    Mutation(
        "write names learned for one credential used by another",
        "lava_crm_mcp/crm/writes.py",
        'return f"{self._scope}/{path}"',
        "return path",
        ("tests/crm/test_guards.py::test_one_org_never_writes_under_the_names_another_orgs_crm_needed",),
    ),
    Mutation(
        "name cache not keyed by the credential",
        "lava_crm_mcp/crm/client.py",
        "Labels(self.shared.names, self.scope, self._name_of,",
        'Labels(self.shared.names, "", self._name_of,',
        ("tests/crm/test_guards.py::test_one_org_never_reads_another_orgs_record_names_from_the_name_cache",),
    ),
    Mutation(
        "dispatch: the call's outer time limit removed",
        "lava_crm_mcp/dispatch.py",
        "anyio.fail_after(self.deadline + GRACE_SECONDS)",
        "anyio.fail_after(None)",
        ("tests/tools/test_call_deadline.py::test_work_the_adapter_cannot_stop_still_ends_the_call_at_its_deadline",),
    ),
    Mutation(
        "dispatch: a call over its deadline not translated",
        "lava_crm_mcp/dispatch.py",
        "except TimeoutError:",
        "except ZeroDivisionError:",
        ("tests/tools/test_call_deadline.py::test_work_the_adapter_cannot_stop_still_ends_the_call_at_its_deadline",),
    ),
    Mutation(
        "confirm token not bound to its tool",
        "lava_crm_mcp/tools/confirm.py",
        "(Refusal.TOOL, parsed.tool == tool),",
        "(Refusal.TOOL, True),",
        ("tests/tools/test_delete_confirmation.py::test_a_token_is_bound_to_its_tool_even_for_the_same_record_id",),
    ),
    Mutation(
        "confirm token not bound to the caller",
        "lava_crm_mcp/tools/confirm.py",
        '(Refusal.CALLER, parsed.caller == self._tag(key, "caller", caller)),',
        "(Refusal.CALLER, True),",
        ("tests/tools/test_delete_confirmation.py::test_only_the_caller_who_saw_the_preview_can_confirm_it",),
    ),
    Mutation(
        "a confirm accepted although its preview no longer holds",
        "lava_crm_mcp/tools/confirm.py",
        '(Refusal.CHANGED, parsed.shown == self._tag(key, "shown", shown))',
        "(Refusal.CHANGED, True)",
        (
            "tests/tools/test_delete_confirmation.py::"
            "test_a_preview_that_no_longer_holds_is_refused_with_the_fresh_preview_and_a_new_token",
        ),
    ),
    Mutation(
        "a test module reads the clock at collection time",
        "tests/test_planted_clock.py",
        "",
        "import time\n\nSTARTED = time.time()\n\n\ndef test_planted() -> None:\n    assert STARTED\n",
        ("tests/test_time_proof.py::test_no_test_module_reads_a_clock_when_it_is_imported_or_collected",),
    ),
    Mutation(
        "caches: a refresh started before a write overwrites it",
        "lava_crm_mcp/crm/pipelines.py",
        "            if self._cache.get(self._scope) is seen:\n",
        "            if True:\n",
        ("tests/crm/test_stale_while_revalidate.py::test_a_refresh_started_before_a_write_does_not_overwrite_it",),
    ),
    Mutation(
        "pools: a proxy named by the environment bypassed",
        "lava_crm_mcp/crm/client.py",
        "own_pools = transport is None and http is None and not env_proxies()",
        "own_pools = transport is None and http is None",
        ("tests/crm/test_pools.py::test_a_proxy_named_by_the_environment_is_still_used",),
    ),
)


def _copy(into: Path) -> None:
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".pytest_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=ignored)
        else:
            shutil.copy2(source, into / name)


def _apply(mutation: Mutation, into: Path) -> None:
    target = into / mutation.path
    if not mutation.before:
        target.write_text(mutation.after, encoding="utf-8")
        return
    text = target.read_text(encoding="utf-8")
    if text.count(mutation.before) != 1:
        raise SystemExit(f"mutation {mutation.name!r}: its text is not found exactly once in {mutation.path}")
    target.write_text(text.replace(mutation.before, mutation.after), encoding="utf-8")


def _pytest(into: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(into), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-x", *tests]
    return subprocess.run(command, cwd=into, env=env, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603


def _imports_the_copy(into: Path) -> bool:
    env = {**os.environ, "PYTHONPATH": str(into)}
    probe = [sys.executable, "-c", "import lava_crm_mcp; print(lava_crm_mcp.__file__)"]
    found = subprocess.run(probe, cwd=into, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return found.stdout.strip().startswith(str(into))


def run(mutation: Mutation) -> tuple[bool, float]:
    """Whether the tests caught the mutation (they pass on the untouched copy, and fail on the mutated one)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lava-mutation-") as folder:
        into = Path(folder)
        _copy(into)
        if not _imports_the_copy(into):
            raise SystemExit("the copy is not what the tests import: is lava_crm_mcp installed non-editable?")
        if _pytest(into, mutation.tests).returncode != 0:
            raise SystemExit(f"the tests for {mutation.name!r} fail without the mutation: fix them first")
        _apply(mutation, into)
        caught = _pytest(into, mutation.tests).returncode != 0
    return caught, time.monotonic() - started


def main() -> int:
    survived = 0
    for mutation in MUTATIONS:
        caught, seconds = run(mutation)
        survived += not caught
        sys.stderr.write(f"{'caught  ' if caught else 'SURVIVED'}  {seconds:5.1f} s  {mutation.name}\n")
    sys.stderr.write(f"{len(MUTATIONS) - survived} of {len(MUTATIONS)} mutations caught\n")
    return 1 if survived else 0


if __name__ == "__main__":
    raise SystemExit(main())
