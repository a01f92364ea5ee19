"""CrmClient: one pooled HTTP client, one request choke point, typed accessors for every endpoint."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

import anyio
import httpx
from pydantic import SecretStr

from lava_crm_mcp import __version__
from lava_crm_mcp.crm import resources
from lava_crm_mcp.crm.activity import read_activity
from lava_crm_mcp.crm.background import Background
from lava_crm_mcp.crm.deadline import seconds_left
from lava_crm_mcp.crm.errors import CrmNotFound, CrmUnavailable
from lava_crm_mcp.crm.exchange import DEFAULT_MAX_BYTES, Exchange, Failure
from lava_crm_mcp.crm.filters import Env, is_phone
from lava_crm_mcp.crm.models import Pipeline, WireModel
from lava_crm_mcp.crm.names import Labels, NameCache, Ref, fingerprint
from lava_crm_mcp.crm.noun import Sort
from lava_crm_mcp.crm.observer import Observer, RequestEvent, Watch
from lava_crm_mcp.crm.pipelines import Pipelines
from lava_crm_mcp.crm.pool import Pools, env_proxies
from lava_crm_mcp.crm.records import Records
from lava_crm_mcp.crm.refnames import NAME_READ, one_named, resolve_fields, resolve_refs
from lava_crm_mcp.crm.retry import RetryPolicy
from lava_crm_mcp.crm.search import Budget, Cursor, Found, Plan, narrowed, run_search
from lava_crm_mcp.crm.upstream import Upstream
from lava_crm_mcp.crm.writes import WriteNames

__all__ = ["CrmClient"]

logger = logging.getLogger("lava_crm_mcp.crm")
Clock = Callable[[], dt.date]
MIN_ATTEMPT_SECONDS = 0.05
WHOLE_READ = 50  # rows: search_each reads the records its searches share at once when there are no more
ACTIVITY_READ = 200  # activities and timeline entries read (newest first) to know when records last had activity


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Shared:
    """What every credential view of one client shares: the pool's caches, the clock and the observers."""

    clock: Clock = utc_today
    names: NameCache = field(default_factory=NameCache)
    pipelines: dict[str, Any] = field(default_factory=dict[str, Any])
    seats: dict[str, Any] = field(default_factory=dict[str, Any])
    write_names: dict[str, dict[str, str]] = field(default_factory=dict[str, dict[str, str]])
    watch: Watch = field(default_factory=Watch)
    background: Background = field(default_factory=Background)


class CrmClient:
    """An async client for the whole Lava CRM API, over the gateway or direct route."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        shared: Shared | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.upstream = upstream
        self.shared = shared or Shared(clock=clock or utc_today)
        self.scope = fingerprint(upstream.credential.get_secret_value())
        self._owns_http = http is None
        own_pools = transport is None and http is None and not env_proxies()  # a proxy needs httpx's own pool
        self._transport = Pools() if own_pools else transport
        self._http = http or httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"Accept": "application/json", "User-Agent": f"lava-crm-mcp/{__version__}"},
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),  # httpx's own pool only
        )
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._exchange = Exchange(self._http, upstream, self._retry, max_bytes, self.shared.watch, self._transport)
        self.labels = Labels(self.shared.names, self.scope, self._name_of, background=self.shared.background)
        self._records: dict[str, Records[Any, Any, Any]] = {
            spec.path: Records(spec, self._request, self.labels, WriteNames(self.shared.write_names, self.scope))
            for spec in resources.RESOURCES
        }
        deals = self.records(resources.OPPORTUNITIES.path)
        shared = self.shared
        self.pipelines = Pipelines(self._request, deals, shared.pipelines, self.scope, shared.seats, shared.background)
        deals.complete, deals.created = self.pipelines.seats.fill, self.pipelines.seats.forget

    def records(self, path: str) -> Records[Any, Any, Any]:
        """The accessor for a resource of the noun table by its URL segment ("contacts", "opportunities", …)."""
        return self._records[path]

    def with_credential(self, credential: SecretStr) -> CrmClient:
        """A view that calls with another credential, sharing this client's connection pool and caches."""
        return CrmClient(
            self.upstream.with_credential(credential),
            http=self._http,
            transport=self._transport,
            timeout=self._timeout,
            retry=self._retry,
            shared=self.shared,
            max_bytes=self._exchange.max_bytes,
        )

    def watch(self, observer: Observer) -> None:
        """Tell `observer` about every request this client and its views make (`observer.py`)."""
        self.shared.watch.add(observer)

    def today(self) -> dt.date:
        """Today in the configured time zone (relative date windows are computed from it)."""
        return self.shared.clock()

    async def search(
        self,
        path: str,
        *,
        text: str | None = None,
        filters: Mapping[str, Any] | None = None,
        sort: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
        budget: Budget | None = None,
    ) -> Found[Any]:
        """Records of `path` matching the text and every filter (checked on each row), in `sort` order."""
        plan = await self._plan(path, text, filters, sort)
        return await run_search(self.records(path).slice, plan, Cursor.parse(cursor), limit, budget)

    async def search_each(
        self, path: str, shared: Mapping[str, Any], variants: Sequence[tuple[Mapping[str, Any], str | None]], limit: int
    ) -> list[Found[Any]]:
        """Several searches of `path` sharing the `shared` filters, each adding filters and an order. When all the
        records they share fit in one read (at most WHOLE_READ), that one read serves them all: each is filtered,
        ordered and counted here. Otherwise (or for a single search) each is one search, side by side."""
        if len(variants) == 1:
            ((filters, sort),) = variants
            return [await self.search(path, filters={**shared, **filters}, sort=sort, limit=limit)]
        whole = await self.search(path, filters=shared, limit=WHOLE_READ)
        if whole.next is not None or whole.repeated or whole.stopped_early:
            found: list[Found[Any]] = [Found() for _ in variants]

            async def one(index: int, filters: Mapping[str, Any], sort: str | None) -> None:
                found[index] = await self.search(path, filters={**shared, **filters}, sort=sort, limit=limit)

            async with anyio.create_task_group() as group:
                for index, (filters, sort) in enumerate(variants):
                    group.start_soon(one, index, filters, sort)
            return found
        plans = [await self._plan(path, None, {**shared, **filters}, sort) for filters, sort in variants]
        return [narrowed(whole.items, plan, limit) for plan in plans]

    async def _plan(self, path: str, text: str | None, filters: Mapping[str, Any] | None, sort: str | None) -> Plan:
        """The search resolved: each filter's condition (stage and pipeline names need the pipeline catalog; a
        filter or order about activity needs the activity index, read first)."""
        spec = self.records(path).spec
        given = {key: value for key, value in (filters or {}).items() if value is not None}
        given = await resolve_refs(spec, given, self._named, self.names)
        by_name = {item.name: item for item in spec.filters}
        order = next((item for item in spec.sorts if item.value == sort), None)
        activity = await self._activity(given, [by_name[name] for name in given], order)

        def plan(pipelines: list[Pipeline]) -> Plan:
            env = Env(self.today(), given, pipelines, activity)
            conditions = [by_name[name].condition(value, env) for name, value in given.items()]
            query = (text or "").strip() or None
            phones = spec.phones if query and is_phone(query) else ()
            return Plan(query, spec.search, conditions, order, path, activity, phones)

        try:
            return plan(await self.pipelines.catalog() if spec.on_board else [])
        except CrmNotFound:  # a pipeline or stage newer than the cached catalog: look once more, fresh
            return plan(await self.pipelines.list())

    async def _activity(self, given: Mapping[str, Any], filters: Sequence[Any], order: Sort | None) -> Any:
        """The activity index a search needs: from the earliest `no_activity_since` date, or (to sort by it) the
        newest activities; None when the search does not ask about activity."""
        asking = [item for item in filters if getattr(item, "needs_activity", False)]
        if asking:
            since = min(item.since(given[item.name], self.today()) for item in asking)
            return await read_activity(self.search, since, ACTIVITY_READ)
        if order is not None and order.field == "last_activity":
            return await read_activity(self.search, None, ACTIVITY_READ)
        return None

    async def names(self, refs: list[Ref], *, known: Sequence[WireModel] = ()) -> dict[Ref, str | None]:
        """Display names of references; names the CRM sent nested in `known` records are used first."""
        nested: dict[str, str] = {}
        for record in known:
            nested |= record.labels
        for ref in refs:
            if ref[1] in nested:
                self.labels.remember(ref, nested[ref[1]])
        return await self.labels.names(refs)

    async def linked_by_id(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A write's body of `path` with every link given by name replaced by that one record's id."""
        return await resolve_fields(self.records(path).spec, body, self._named, self.names)

    async def id_of(self, path: str, value: str, label: str) -> str:
        """The id of the one record of `path` that `value` is the id or the name of (a UUID or a number costs no
        read)."""
        return await one_named(label, path, value, self._named, self.names)

    async def _named(self, path: str, text: str) -> list[tuple[str, str]]:
        found = await self.search(path, text=text, limit=NAME_READ)
        display = self.records(path).spec.display
        return [(record.id, display(record) or "") for record in found.items]

    async def _name_of(self, path: str, record_id: str) -> str | None:
        records = self.records(path)
        return records.spec.display(await records.get(record_id))

    async def ping(self, *, seconds: float | None = None) -> None:
        """Raise unless the CRM answers an authenticated read; with `seconds`, one attempt within that time (a
        probe that must not spend the org's rate limit on retries)."""
        if seconds is None:
            await self._request("GET", "deal-pipelines/", what="the pipeline list")
            return
        url = self.upstream.url("deal-pipelines/")
        outcome = await self._exchange.attempt("GET", url, None, "the pipeline list", seconds)
        if isinstance(outcome, Failure):
            raise outcome.error

    async def aclose(self) -> None:
        if self._owns_http:
            await self.shared.background.aclose()
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _request(
        self, method: str, path: str, *, what: str, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        """Send one logical request (retrying only where that cannot duplicate a write); return the JSON body.

        Every attempt, wait and byte fits in the retry deadline and in the current call's deadline (`deadline.py`).
        """
        url = self.upstream.url(path, params)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            seconds = self._seconds_left(started)
            if seconds < MIN_ATTEMPT_SECONDS:
                self._event("deadline", method)
                raise CrmUnavailable(f"No time was left in this call to ask the CRM for {what}; nothing was sent.")
            outcome = await self._exchange.attempt(method, url, json, what, min(self._timeout, seconds))
            if not isinstance(outcome, Failure):
                return outcome
            if method == "DELETE" and attempt > 1 and isinstance(outcome.error, CrmNotFound):
                return None  # gone: what an earlier attempt asked for is done
            wait = self._retry.delay(attempt, outcome.retry_after, time.monotonic() - started)
            left = self._seconds_left(started)
            if not outcome.retriable or wait is None or wait >= left:
                if left < MIN_ATTEMPT_SECONDS or (outcome.retriable and wait is not None):
                    self._event("deadline", method)  # the time ran out, or would before a retry could be sent
                raise outcome.error
            self._event("retry", method)
            logger.warning("%s %s failed (%s); retry %d in %.2f s", method, path, outcome.error.status, attempt, wait)
            await anyio.sleep(wait)

    def _event(self, kind: Literal["retry", "deadline"], method: str) -> None:
        if self.shared.watch:
            self.shared.watch.emit(RequestEvent(kind, method, self.upstream.route, started=time.time()))

    def _seconds_left(self, started: float) -> float:
        """What remains of this request's retry deadline, and of the call's deadline when one is set."""
        own = self._retry.deadline - (time.monotonic() - started)
        call = seconds_left()
        return own if call is None else min(own, call)
