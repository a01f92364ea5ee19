"""CrmClient: one pooled HTTP client, one request choke point, typed accessors for every endpoint."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, cast

import anyio
import httpx
from pydantic import SecretStr

from lava_crm_mcp import __version__
from lava_crm_mcp.crm import resources
from lava_crm_mcp.crm.envelopes import decode
from lava_crm_mcp.crm.errors import CrmError, CrmNotFound, CrmUnavailable
from lava_crm_mcp.crm.failures import error_for
from lava_crm_mcp.crm.filters import Env
from lava_crm_mcp.crm.models import Pipeline, WireModel
from lava_crm_mcp.crm.names import Labels, NameCache, Ref, fingerprint
from lava_crm_mcp.crm.pipelines import Pipelines
from lava_crm_mcp.crm.records import Records
from lava_crm_mcp.crm.retry import IDEMPOTENT, NEVER_SENT, RetryPolicy, parse_retry_after
from lava_crm_mcp.crm.search import Budget, Cursor, Found, Plan, run_search
from lava_crm_mcp.crm.upstream import Upstream

__all__ = ["CrmClient"]

logger = logging.getLogger("lava_crm_mcp.crm")
MIN_REDACTED_IN_DATA = 16
MAX_REDIRECTS = 3
Clock = Callable[[], dt.date]


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Shared:
    """What every credential view of one client shares: the pool's caches and the clock."""

    clock: Clock = utc_today
    names: NameCache = field(default_factory=NameCache)
    pipelines: dict[str, Any] = field(default_factory=dict[str, Any])


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
    ) -> None:
        self.upstream = upstream
        self.shared = shared or Shared(clock=clock or utc_today)
        self.scope = fingerprint(upstream.credential.get_secret_value())
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"Accept": "application/json", "User-Agent": f"lava-crm-mcp/{__version__}"},
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self.labels = Labels(self.shared.names, self.scope, self._name_of)
        self.contacts = Records(resources.CONTACTS, self._request, self.labels)
        self.accounts = Records(resources.ACCOUNTS, self._request, self.labels)
        self.leads = Records(resources.LEADS, self._request, self.labels)
        self.opportunities = Records(resources.OPPORTUNITIES, self._request, self.labels)
        self.tasks = Records(resources.TASKS, self._request, self.labels)
        self.cases = Records(resources.CASES, self._request, self.labels)
        self.invoices = Records(resources.INVOICES, self._request, self.labels)
        self.pipelines = Pipelines(self._request, self.opportunities, self.shared.pipelines, self.scope)

    def records(self, path: str) -> Records[Any, Any, Any]:
        """The accessor for a resource by its URL segment ("contacts", "opportunities", …)."""
        return cast(Records[Any, Any, Any], getattr(self, path))

    def with_credential(self, credential: SecretStr) -> CrmClient:
        """A view that calls with another credential, sharing this client's connection pool and caches."""
        return CrmClient(
            self.upstream.with_credential(credential),
            http=self._http,
            timeout=self._timeout,
            retry=self._retry,
            shared=self.shared,
        )

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
        records = self.records(path)
        spec, given = records.spec, {key: value for key, value in (filters or {}).items() if value is not None}
        by_name = {item.name: item for item in spec.filters}
        order = next((item for item in spec.sorts if item.value == sort), None)

        def plan(pipelines: list[Pipeline]) -> Plan:
            env = Env(self.today(), given, pipelines)
            conditions = [by_name[name].condition(value, env) for name, value in given.items()]
            return Plan((text or "").strip() or None, spec.search, conditions, order)

        try:
            resolved = plan(await self.pipelines.catalog() if spec.on_board else [])
        except CrmNotFound:  # a pipeline or stage newer than the cached catalog: look once more, fresh
            resolved = plan(await self.pipelines.list())
        return await run_search(records.slice, resolved, Cursor.parse(cursor), limit, budget)

    async def names(self, refs: list[Ref], *, known: Sequence[WireModel] = ()) -> dict[Ref, str | None]:
        """Display names of references; names the CRM sent nested in `known` records are used first."""
        for record in known:
            for ref in refs:
                if ref[1] in record.labels:
                    self.labels.remember(ref, record.labels[ref[1]])
        return await self.labels.names(refs)

    async def _name_of(self, path: str, record_id: str) -> str | None:
        records = self.records(path)
        return records.spec.display(await records.get(record_id))

    async def ping(self) -> None:
        """Raise unless the CRM answers an authenticated read."""
        await self._request("GET", "deal-pipelines/", what="the pipeline list")

    async def aclose(self) -> None:
        if self._owns_http:
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
        """Send one logical request (retrying only where that cannot duplicate a write); return the JSON body."""
        url = self.upstream.url(path, params)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(method, url, json, what, started)
            if not isinstance(outcome, _Failure):
                return outcome
            elapsed = time.monotonic() - started
            wait = self._retry.delay(attempt, outcome.retry_after, elapsed) if outcome.retriable else None
            if wait is None:
                raise outcome.error
            logger.warning("%s %s failed (%s); retry %d in %.2f s", method, path, outcome.error.status, attempt, wait)
            await anyio.sleep(wait)

    async def _attempt(self, method: str, url: str, json: Any, what: str, started: float) -> Any:
        """One HTTP exchange: the decoded body, or a _Failure saying whether it may be retried."""
        remaining = max(self._retry.deadline - (time.monotonic() - started), 0.1)
        headers = {"Authorization": self.upstream.authorization()}
        try:
            response = await self._following(method, url, json, headers, min(self._timeout, remaining))
        except httpx.TransportError as exc:
            error = self._transport_error(exc, what, method)
            return _Failure(error, None, self._retry.may_retry_error(method, exc))
        logger.debug("%s %s -> %d", method, what, response.status_code)
        text = self._redacted(response.text, error=not response.is_success)
        if response.is_success:
            return self._checked(decode(text, response.status_code), what, method)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        write = method not in IDEMPOTENT
        error = error_for(
            response.status_code,
            _lenient(text, response.status_code),
            what=what,
            write=write,
            retry_after=retry_after,
            gateway=self.upstream.gateway_url is not None,
            location=response.headers.get("location") if response.is_redirect else None,
        )
        return _Failure(error, retry_after, self._retry.may_retry_status(method, response.status_code))

    async def _following(
        self, method: str, url: str, json: Any, headers: dict[str, str], seconds: float
    ) -> httpx.Response:
        """The response, after following redirects of a read that stay on the same host (at most 3)."""
        response = await self._http.request(method, url, json=json, headers=headers, timeout=seconds)
        for _ in range(MAX_REDIRECTS):
            if not (response.is_redirect and method == "GET"):
                break
            target = response.url.join(response.headers.get("location", ""))
            if target.host != response.url.host or (response.url.scheme, target.scheme) == ("https", "http"):
                break  # another host (or a downgrade): never send our credential there; reported as a setup error
            response = await self._http.request(method, target, headers=headers, timeout=seconds)
        return response

    def _redacted(self, text: str, *, error: bool) -> str:
        """A body with our own credential blanked out, in case the server echoes it back.

        Error bodies always; record data only for a key-length secret (16+ characters), so a short demo token
        such as "sandbox" never rewrites ordinary words in CRM records.
        """
        secret = self.upstream.credential.get_secret_value()
        if not secret or (not error and len(secret) < MIN_REDACTED_IN_DATA):
            return text
        return text.replace(secret, "**********")

    def _checked(self, body: Any, what: str, method: str) -> Any:
        """A 2xx body may still say `{"error": true}` (django-crm); that is a rejection."""
        if isinstance(body, dict) and cast(dict[str, Any], body).get("error") is True:
            raise error_for(400, body, what=what, write=method not in IDEMPOTENT)
        return cast(Any, body)

    def _transport_error(self, exc: httpx.TransportError, what: str, method: str) -> CrmError:
        route = self.upstream.route
        if isinstance(exc, NEVER_SENT):
            return CrmUnavailable(
                f"Could not reach the CRM ({route} route) for {what}: {type(exc).__name__}. "
                "Nothing was sent; try again shortly."
            )
        unsure = " The write may or may not have been applied: read it back before retrying."
        return CrmUnavailable(
            f"The CRM ({route} route) did not answer properly for {what}: {type(exc).__name__}."
            f"{unsure if method not in IDEMPOTENT else ''} Try again shortly."
        )


@dataclass(frozen=True)
class _Failure:
    error: CrmError
    retry_after: float | None
    retriable: bool


def _lenient(text: str, status: int) -> Any:
    """An error body as JSON when it is JSON, else its text (HTML pages, plain text, nothing)."""
    try:
        return decode(text, status)
    except CrmError:
        return text
