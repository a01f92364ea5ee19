"""Searching a list against a CRM that honours or ignores filters, search words and order: rows are always checked,
the scan is bounded, and the result says what it read and whether it stopped early."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from lava_crm_mcp.crm import CrmClient, CrmError, CrmInvalid
from lava_crm_mcp.crm.search import Budget, Cursor

pytestmark = pytest.mark.anyio

PAGE = 20
LIST = "https://lava-crm-api.fly.dev/api/tasks/"


def at(cursor: Cursor | None) -> str | None:
    """Where a cursor goes on (row, and rows of that slice already returned), without the row it remembers."""
    return None if cursor is None else str(cursor).split(".")[0]


def task(number: int, account: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"t-{number:03}", "title": f"Task {number}", "account": account, **extra}


@dataclass
class FakeCrm:
    """A drf-style task list that applies only the query parameters in `honours`; it records every request."""

    records: list[dict[str, Any]]
    honours: set[str] = field(default_factory=set[str])
    seen: list[dict[str, str]] = field(default_factory=list[dict[str, str]])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.seen.append(params)
        rows = [row for row in self.records if self._keeps(row, params)]
        if "ordering" in self.honours and "ordering" in params:
            key = params["ordering"].lstrip("-")
            rows.sort(key=lambda row: (row.get(key) is None, row.get(key) or ""), reverse=False)
            if params["ordering"].startswith("-"):
                present = [row for row in rows if row.get(key) is not None][::-1]
                rows = present + [row for row in rows if row.get(key) is None]
        page = int(params.get("page", "1"))
        chunk = rows[(page - 1) * PAGE : page * PAGE]
        more = page * PAGE < len(rows)
        return httpx.Response(
            200,
            json={
                "count": len(rows),
                "next": f"{LIST}?page={page + 1}" if more else None,
                "previous": None,
                "results": chunk,
            },
        )

    def _keeps(self, row: dict[str, Any], params: dict[str, str]) -> bool:
        if "account" in self.honours and "account" in params and row["account"] != params["account"]:
            return False
        if "search" in self.honours and "search" in params:
            return all(word.casefold() in row["title"].casefold() for word in params["search"].split())
        return True

    @property
    def pages(self) -> list[str]:
        return [params.get("page", "1") for params in self.seen]


@pytest.fixture
def crm_list(crm_api: respx.MockRouter) -> Any:
    def install(fake: FakeCrm) -> FakeCrm:
        crm_api.get(LIST).mock(side_effect=fake)
        return fake

    return install


def mixed(total: int, every: int) -> list[dict[str, Any]]:
    """`total` tasks, every `every`-th one on account a-1, the rest on a-2."""
    return [task(number, "a-1" if number % every == 0 else "a-2") for number in range(total)]


def ids(rows: Sequence[Any]) -> list[str]:
    return [row.id for row in rows]


async def test_a_crm_that_honours_the_filter_has_its_count_verified_by_the_same_list_without_it(
    direct: CrmClient, crm_list: Any
) -> None:
    fake = crm_list(FakeCrm(mixed(100, 4), honours={"account"}))

    found = await direct.search("tasks", filters={"account_id": "a-1"})

    assert fake.seen == [{"limit": "20", "account": "a-1"}, {"limit": "20"}]
    assert ids(found.items) == [f"t-{n:03}" for n in range(0, 80, 4)]
    assert (found.total, found.scanned, found.pages, found.ignored, found.stopped_early) == (25, 20, 1, [], False)
    assert (found.at_least, found.uncounted, found.remarks) == (None, None, [])
    assert at(found.next) == "20"


async def test_a_first_page_that_passes_by_chance_never_makes_the_crms_count_the_total(
    direct: CrmClient, crm_list: Any
) -> None:
    fake = crm_list(FakeCrm([task(n, "a-1" if n < 26 else "a-2") for n in range(200)]))

    found = await direct.search("tasks", filters={"account_id": "a-1"})

    assert (len(found.items), found.ignored, found.total, found.at_least) == (20, [], None, 20)
    assert found.uncounted == (
        "the CRM counts 200, but did not show that it applied account_id: without it, the CRM counts as many"
    )
    assert found.remarks == [f"at least 20 match ({found.uncounted})"]
    assert fake.seen == [{"limit": "20", "account": "a-1"}, {"limit": "20"}]


async def test_an_ignored_filter_states_no_total_but_how_many_matched_among_the_rows_read(
    direct: CrmClient, crm_list: Any
) -> None:
    crm_list(FakeCrm(mixed(100, 4)))

    found = await direct.search("tasks", filters={"account_id": "a-1"}, limit=3)

    assert (ids(found.items), at(found.next)) == (["t-000", "t-004", "t-008"], "0:9")
    assert (found.total, found.at_least) == (None, 5)  # 5 of the 20 rows read match, 3 are shown
    assert found.remarks == ["at least 5 match (the CRM counts 100, but it did not apply account_id)"]


async def test_a_failure_mid_scan_keeps_the_rows_read_and_gives_the_cursor_to_resume(
    direct: CrmClient, crm_list: Any
) -> None:
    class Failing(FakeCrm):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.params.get("page") == "4":
                return httpx.Response(402, json={"detail": "Payment required."})
            return super().__call__(request)

    crm_list(Failing(mixed(200, 20)))

    found = await direct.search("tasks", filters={"account_id": "a-1"})

    assert ids(found.items) == ["t-000", "t-020", "t-040"]
    assert (str(found.next), found.pages, found.total, found.at_least, found.stopped_early) == ("60", 3, None, 3, False)
    assert found.failure is not None
    assert found.failure.startswith("Reading stopped at row 61: The CRM answered HTTP 402 for the tasks list")
    assert found.failure.endswith("The 3 matching rows read before are kept; the cursor given goes on from there.")
    assert found.remarks[-1] == found.failure


async def test_a_failure_on_the_first_slice_is_the_answer(direct: CrmClient, crm_list: Any) -> None:
    class Down(FakeCrm):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(402, json={"detail": "Payment required."})

    crm_list(Down([]))

    with pytest.raises(CrmError, match="HTTP 402"):
        await direct.search("tasks", filters={"account_id": "a-1"})


async def test_a_failure_while_sorting_here_keeps_the_rows_read_sorted_and_reads_them_again_from_the_cursor(
    direct: CrmClient, crm_list: Any
) -> None:
    class Failing(FakeCrm):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.params.get("page") == "2":
                return httpx.Response(402, json={"detail": "Payment required."})
            return super().__call__(request)

    crm_list(Failing([task(n, "a-1", due_date=f"2026-01-{31 - n % 30:02}") for n in range(30)]))

    found = await direct.search("tasks", sort="due_date_asc", limit=5)

    assert [row.due_date for row in found.items] == [f"2026-01-{day:02}" for day in range(12, 17)]
    assert (str(found.next), found.total, found.at_least, found.sorted_here) == ("@0", None, 20, True)
    assert found.failure is not None
    assert "The 20 matching rows read before are kept" in found.failure


async def test_a_crm_that_ignores_the_filter_is_found_out_and_rows_are_checked_here(
    direct: CrmClient, crm_list: Any
) -> None:
    fake = crm_list(FakeCrm(mixed(100, 4)))

    found = await direct.search("tasks", filters={"account_id": "a-1"}, limit=5)

    assert ids(found.items) == ["t-000", "t-004", "t-008", "t-012", "t-016"]
    assert all(row.account == "a-1" for row in found.items)
    assert found.ignored == ["account_id"]
    assert (found.total, found.scanned, found.pages) == (None, 20, 1)
    assert at(found.next) == "0:17"
    assert fake.seen == [{"limit": "20", "account": "a-1"}]


async def test_a_scan_that_reads_every_page_from_the_start_knows_the_exact_total(
    direct: CrmClient, crm_list: Any
) -> None:
    crm_list(FakeCrm(mixed(50, 10)))

    found = await direct.search("tasks", filters={"account_id": "a-1"})

    assert ids(found.items) == ["t-000", "t-010", "t-020", "t-030", "t-040"]
    assert (found.total, found.scanned, found.pages, found.next, found.stopped_early) == (5, 50, 3, None, False)


async def test_a_scan_stops_at_its_page_budget_and_says_where_to_continue(direct: CrmClient, crm_list: Any) -> None:
    fake = crm_list(FakeCrm(mixed(300, 100)))

    found = await direct.search("tasks", filters={"account_id": "a-1"})
    more = await direct.search("tasks", filters={"account_id": "a-1"}, cursor=str(found.next))

    assert ids(found.items) == ["t-000", "t-100"]
    assert (found.scanned, found.pages, found.stopped_early, str(found.next), found.total) == (
        200,
        10,
        True,
        "200",
        None,
    )
    assert ids(more.items) == ["t-200"]
    assert (more.pages, more.stopped_early, more.next, more.total) == (5, False, None, None)
    assert fake.pages == [*map(str, range(1, 16))]


async def test_a_scan_stops_at_its_time_budget(direct: CrmClient, crm_list: Any) -> None:
    crm_list(FakeCrm(mixed(300, 100)))

    found = await direct.search("tasks", filters={"account_id": "a-1"}, budget=Budget(pages=10, seconds=0))

    assert (found.pages, found.stopped_early, str(found.next)) == (1, True, "20")


async def test_a_continuation_cursor_skips_the_rows_already_returned_on_its_page(
    direct: CrmClient, crm_list: Any
) -> None:
    crm_list(FakeCrm(mixed(40, 1), honours={"account"}))

    first = await direct.search("tasks", filters={"account_id": "a-1"}, limit=15)
    second = await direct.search("tasks", filters={"account_id": "a-1"}, limit=15, cursor=str(first.next))
    third = await direct.search("tasks", filters={"account_id": "a-1"}, limit=15, cursor=str(second.next))

    assert [at(first.next), at(second.next), third.next] == ["0:15", "20:10", None]
    assert ids(first.items) + ids(second.items) + ids(third.items) == [f"t-{n:03}" for n in range(40)]


async def test_an_ignored_search_text_is_checked_word_by_word(direct: CrmClient, crm_list: Any) -> None:
    records = [task(1, "a-1", title="Call Ada"), task(2, "a-1", title="Email Grace"), task(3, "a-1", title="Ada call")]
    crm_list(FakeCrm(records))

    found = await direct.search("tasks", text="call ada")

    assert ids(found.items) == ["t-001", "t-003"]
    assert found.ignored == ["query"]


async def test_a_crm_that_matches_the_phrase_as_one_string_is_asked_for_one_word(
    direct: CrmClient, crm_list: Any
) -> None:
    class PhraseCrm(FakeCrm):
        def _keeps(self, row: dict[str, Any], params: dict[str, str]) -> bool:
            return params.get("search", "").casefold() in row["title"].casefold()

    records = [task(1, "a-1", title="Call Ada Lovelace"), task(2, "a-1", title="Lovelace archive")]
    fake = crm_list(PhraseCrm(records))

    found = await direct.search("tasks", text="Ada  Call", limit=1)

    assert [params.get("search") for params in fake.seen] == ["Ada  Call", "call"]
    assert ids(found.items) == ["t-001"]
    assert found.next is None


async def test_an_ignored_order_is_applied_here_among_the_records_read(direct: CrmClient, crm_list: Any) -> None:
    dates = ["2026-03-01", None, "2026-01-15", "2026-02-01"]
    records = [task(n, "a-1", due_date=day) for n, day in enumerate(dates)]
    crm_list(FakeCrm(records))

    ascending = await direct.search("tasks", sort="due_date_asc")
    descending = await direct.search("tasks", sort="due_date_desc", limit=2)
    rest = await direct.search("tasks", sort="due_date_desc", limit=2, cursor=str(descending.next))

    assert ids(ascending.items) == ["t-002", "t-003", "t-000", "t-001"]
    assert (ascending.sorted_here, ascending.total, ascending.stopped_early) == (True, 4, False)
    assert ids(descending.items) + ids(rest.items) == ["t-000", "t-003", "t-002", "t-001"]


async def test_an_honoured_order_costs_one_request(direct: CrmClient, crm_list: Any) -> None:
    records = [task(n, "a-1", due_date=f"2026-01-{n + 1:02}") for n in range(5)]
    fake = crm_list(FakeCrm(records, honours={"ordering"}))

    found = await direct.search("tasks", sort="due_date_desc")

    assert fake.seen == [{"limit": "20", "ordering": "-due_date"}]
    assert ids(found.items) == ["t-004", "t-003", "t-002", "t-001", "t-000"]
    assert found.sorted_here is False


async def test_two_filters_that_want_one_parameter_both_apply_here_and_neither_is_sent(
    direct: CrmClient, crm_list: Any
) -> None:
    today = direct.today()
    later = today + dt.timedelta(days=30)
    fake = crm_list(FakeCrm([task(1, "a-1", due_date=today.isoformat()), task(2, "a-1", due_date=later.isoformat())]))

    found = await direct.search("tasks", filters={"due_to": later + dt.timedelta(days=10), "due": "this_week"})

    assert "due_date__lte" not in fake.seen[0]
    assert fake.seen[0]["due_date__gte"] == (today - dt.timedelta(days=today.weekday())).isoformat()
    assert ids(found.items) == ["t-001"]


async def test_a_cursor_that_no_search_gave_is_refused_before_any_request(direct: CrmClient, crm_list: Any) -> None:
    fake = crm_list(FakeCrm(mixed(5, 1)))

    with pytest.raises(CrmInvalid, match="cursor 'page 2' is not valid"):
        await direct.search("tasks", cursor="page 2")

    assert fake.seen == []
